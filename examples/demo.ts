/**
 * `npm run demo`: the scenarios, run embedded (no server).
 * @module
 */
import { runVariablesScenario } from './variables.js';

console.log('== Session variables (embedded, in-memory store)');
await runVariablesScenario();
