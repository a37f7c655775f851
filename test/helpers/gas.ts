/**
 * Collects gas used per contract function across a test file and prints one table at the end.
 */
import type { ContractTransactionResponse, TransactionReceipt } from 'ethers';

interface Row {
  calls: number;
  min: bigint;
  max: bigint;
  total: bigint;
}

export class GasTable {
  private readonly rows = new Map<string, Row>();

  constructor(private readonly title: string) {}

  add(label: string, receipt: TransactionReceipt): void {
    const gas = receipt.gasUsed;
    const row = this.rows.get(label);
    if (!row) {
      this.rows.set(label, { calls: 1, min: gas, max: gas, total: gas });
      return;
    }
    row.calls += 1;
    row.total += gas;
    if (gas < row.min) row.min = gas;
    if (gas > row.max) row.max = gas;
  }

  /** Sends, waits, asserts success and records gas under `label`. */
  async track(label: string, tx: Promise<ContractTransactionResponse>): Promise<TransactionReceipt> {
    const receipt = await (await tx).wait();
    if (!receipt || receipt.status !== 1) throw new Error(`${label} reverted`);
    this.add(label, receipt);
    return receipt;
  }

  print(): void {
    if (this.rows.size === 0) return;
    const lines = [`Gas used: ${this.title}`, '| function | calls | min | avg | max |', '|---|---:|---:|---:|---:|'];
    for (const [label, r] of [...this.rows.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`| ${label} | ${r.calls} | ${r.min} | ${r.total / BigInt(r.calls)} | ${r.max} |`);
    }
    console.log(lines.join('\n'));
  }
}
