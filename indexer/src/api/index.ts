/**
 * HTTP API of the indexer: Ponder's GraphQL at / and /graphql, SQL over HTTP at /sql/* (for
 * @ponder/client). Ponder itself serves /health, /ready, /status and /metrics.
 */
import { db } from 'ponder:api';
import schema from 'ponder:schema';
import { Hono } from 'hono';
import { client, graphql } from 'ponder';

const app = new Hono();
app.use('/sql/*', client({ db, schema }));
app.use('/graphql', graphql({ db, schema }));
app.use('/', graphql({ db, schema }));

export default app;
