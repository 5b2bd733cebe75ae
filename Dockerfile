# A Tether node: `tether serve`, configured by NATS_URL (and TETHER_AI* for a real LLM).
# Two stages: the first compiles the TypeScript (dev dependencies needed), the second runs the compiled output with
# plain Node and the runtime dependencies only, as an installed package does (see bin/tether.js).
FROM node:20-slim AS build
WORKDIR /app
# @ax-llm/ax's install script writes files into the project; scripts are off below anyway.
ENV AX_SKIP_SKILL_INSTALL=1
COPY package.json package-lock.json ./
# Install scripts off: no package needs one to build or run here.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json tsconfig.image.json ./
COPY machines ./machines
COPY src ./src
COPY examples ./examples
# The package's dist/ and the tools file of docker-compose.yml (dist/examples/tools.js).
RUN npx tsc -p tsconfig.image.json

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production \
    AX_SKIP_SKILL_INSTALL=1
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
# No src/ here: bin/tether.js runs the compiled CLI, without tsx.
COPY --from=build /app/dist ./dist
# `tether` on the PATH, so `docker compose exec tether tether var list -s chat-1` works too.
RUN ln -s /app/bin/tether.js /usr/local/bin/tether
USER node
ENV NATS_URL=nats://nats:4222
# Exec form: the node gets SIGTERM from `docker stop` directly and stops cleanly.
ENTRYPOINT ["node", "/app/bin/tether.js"]
CMD ["serve"]
