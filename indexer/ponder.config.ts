/**
 * Ponder configuration: every chain of the deployment file (DEPLOYMENT_FILE, default
 * $DATA_DIR/deployment.json) with the Gateway, Rollup and Provenance contracts it carries; ABIs
 * from contracts/artifacts (npm run build:contracts). A third chain in the deployment file is
 * indexed without a change here. Store: PGlite under $DATA_DIR/indexer, or Postgres when
 * DATABASE_URL is set.
 */
import { createConfig } from 'ponder';
import { chainsOf, contractsOf, databaseOf } from './deployment.js';

export default createConfig({
  database: databaseOf(process.env),
  chains: chainsOf(process.env),
  contracts: contractsOf(process.env),
});
