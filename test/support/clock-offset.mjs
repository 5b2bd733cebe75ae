// Preload for a child node process whose wall clock is off, as on a machine whose NTP is off:
// `node --import ./test/support/clock-offset.mjs …` with CLOCK_OFFSET_MS set. Date.now() and `new Date()` read the real
// clock plus the offset; the monotonic clock (performance.now), timers and sockets are untouched.
const offset = Number(process.env.CLOCK_OFFSET_MS ?? 0);
const RealDate = globalThis.Date;
const realNow = RealDate.now.bind(RealDate);
class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(realNow() + offset);
    else super(...args);
  }
  static now() {
    return realNow() + offset;
  }
}
globalThis.Date = ShiftedDate;
