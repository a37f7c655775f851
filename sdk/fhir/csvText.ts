/**
 * RFC 4180 CSV reading and writing: quoted fields with embedded commas, quotes ("") and line
 * breaks; CRLF, LF or lone CR line ends; an optional UTF-8 BOM; blank lines skipped. Each record
 * keeps the physical line it starts on, so import errors can name it.
 */
import { CsvImportError } from './errors.js';

export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  readonly line: number;
  readonly fields: readonly string[];
}

/**
 * Splits CSV text into records. Syntax errors (an unterminated quote, text after a closing quote, a
 * quote inside an unquoted field) throw CSV_SYNTAX: past such a point the rest of the file cannot be
 * trusted to split correctly, so they are not skippable like a bad value.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const syntax = (at: number, message: string): never => {
    throw new CsvImportError('CSV_SYNTAX', [{ line: at, message }]);
  };

  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    let quotedAny = false;
    for (;;) {
      // One field.
      let value = '';
      if (text[i] === '"') {
        quotedAny = true;
        const openedAt = line;
        i++;
        for (;;) {
          if (i >= text.length) syntax(openedAt, 'unterminated quoted field (a " is never closed)');
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
          value += c;
          i++;
        }
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          syntax(line, `unexpected ${JSON.stringify(next)} after a closing quote (quotes inside a field must be doubled)`);
        }
      } else {
        const from = i;
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') syntax(line, 'a quote inside an unquoted field (quote the whole field and double the quote)');
          i++;
        }
        value = text.slice(from, i);
      }
      fields.push(value);
      if (text[i] === ',') {
        i++;
        continue;
      }
      // End of record: CRLF, LF, CR or end of text.
      if (text[i] === '\r') i += text[i + 1] === '\n' ? 2 : 1;
      else if (text[i] === '\n') i++;
      line++;
      break;
    }
    const blank = !quotedAny && fields.length === 1 && fields[0]!.trim() === '';
    if (!blank) records.push({ line: start, fields });
  }
  return records;
}

/** Quotes a field only when it must be (RFC 4180), doubling embedded quotes. */
export function formatCsvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function formatCsv(rows: ReadonlyArray<readonly string[]>, eol = '\n'): string {
  return rows.map((r) => r.map(formatCsvField).join(',')).join(eol) + eol;
}
