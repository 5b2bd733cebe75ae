# A Tether node: `tether serve`, configured by NATS_URL (and TETHER_AI* for a real LLM).
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production \
    # @ax-llm/ax's install script writes files into the project; scripts are off below anyway.
    AX_SKIP_SKILL_INSTALL=1
COPY package.json package-lock.json ./
# All dependencies, dev ones included: the CLI runs the TypeScript sources through tsx (see bin/tether.js).
# Install scripts off: no package needs one to run here.
RUN npm ci --ignore-scripts --include=dev && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY machines ./machines
COPY src ./src
COPY examples ./examples
# `tether` on the PATH, so `docker compose exec tether tether var list -s chat-1` works too.
RUN ln -s /app/bin/tether.js /usr/local/bin/tether
USER node
ENV NATS_URL=nats://nats:4222
# Exec form: the node gets SIGTERM from `docker stop` directly and stops cleanly.
ENTRYPOINT ["node", "/app/bin/tether.js"]
CMD ["serve"]
