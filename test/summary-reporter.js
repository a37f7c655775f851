/**
 * Prints one plain closing line, "N passed, N failed, N skipped", after jest's own summary, so
 * CI tooling that does not parse jest's format still reads the result.
 */
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests, numRuntimeErrorTestSuites } = results;
    // A suite that fails to load has no failed tests of its own; count it so the line never hides it.
    const failed = numFailedTests + numRuntimeErrorTestSuites;
    process.stdout.write(`\n${numPassedTests} passed, ${failed} failed, ${numPendingTests + numTodoTests} skipped\n`);
  }
}
