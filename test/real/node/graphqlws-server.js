'use strict';
// A graphql-ws backend for wsstorm's real-server tests: a GraphQL server over
// the graphql-transport-ws subprotocol as a real one is written with
// graphql-ws 6.4.2, graphql 16.15.0 and ws 8.23.1, plus the event log and
// metrics that are the server's side of the truth. See README.md.
//
//   node graphqlws-server.js --port P --name NAME --log FILE

const http = require('node:http');
const { WebSocketServer } = require('ws');
const { useServer } = require('graphql-ws/use/ws');
const { GraphQLSchema, GraphQLObjectType, GraphQLString, GraphQLInt, GraphQLError } = require('graphql');
const { EventLog } = require('./lib/eventlog');
const { Metrics } = require('./lib/metrics');
const { ConnectionLedger, clientOf } = require('./lib/connections');
const { parseFlags, requestHandler, serve } = require('./lib/backend');
const { ticks } = require('./lib/ticks');

const flags = parseFlags(process.argv.slice(2));
const log = new EventLog(flags.log, flags.name);
const metrics = new Metrics();
const ledger = new ConnectionLedger(log, metrics);
const inits = metrics.counter('wsstorm_real_graphqlws_inits_total', 'connection_init messages acknowledged.');
const subscriptions = metrics.counter('wsstorm_real_graphqlws_subscriptions_total', 'subscribe messages received.');

// type Query { hello: String }
// type Subscription { ticks(everyMs: Int = 1000): Int }
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: { hello: { type: GraphQLString, resolve: () => 'world' } },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      ticks: {
        type: GraphQLInt,
        args: { everyMs: { type: GraphQLInt, defaultValue: 1000 } },
        subscribe: (_root, { everyMs }) => {
          if (everyMs < 1) throw new GraphQLError('everyMs must be at least 1');
          return ticks(everyMs);
        },
        resolve: (n) => n,
      },
    },
  }),
});

const httpServer = http.createServer(requestHandler(metrics));
const wss = new WebSocketServer({ server: httpServer, path: '/graphql' });

// Registered before useServer's own listener, so the ledger watches each
// WebSocket before graphql-ws can close it.
wss.on('connection', (ws, req) => ledger.track(ws, req));

const { dispose } = useServer(
  {
    schema,
    onConnect: (ctx) => {
      inits.add();
      log.write('init', { client: clientOf(ctx.extra.request) });
    },
    onSubscribe: (ctx, id, payload) => {
      subscriptions.add();
      log.write('subscribe', {
        client: clientOf(ctx.extra.request),
        id,
        operation: payload.operationName ?? null,
      });
    },
  },
  wss,
);

serve({
  httpServer,
  port: flags.port,
  log,
  ledger,
  // dispose() closes every client with 1001 "Going away" and waits for the
  // WebSocket server to close; the HTTP server stops listening at the same
  // time, so that no new upgrade reaches a backend that is going away.
  shutdown: () => Promise.all([dispose(), new Promise((resolve) => httpServer.close(() => resolve()))]),
});
