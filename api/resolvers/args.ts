/** Argument checks shared by resolvers: BAD_USER_INPUT with the argument's name. */
import { ApiError } from '../errors.js';

export function uint32(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** 32) throw new ApiError('BAD_USER_INPUT', `${name} must be a uint32`, { argument: name });
  return value;
}

export function decimal(value: string, name: string): bigint {
  if (!/^(0|[1-9][0-9]{0,77})$/.test(value)) throw new ApiError('BAD_USER_INPUT', `${name} must be a decimal integer`, { argument: name });
  return BigInt(value);
}

export function limit(value: number | undefined, name: string, fallback: number, max: number): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new ApiError('BAD_USER_INPUT', `${name} must be in 1..${max}`, { argument: name });
  return n;
}

export function bytes32(value: string, name: string): `0x${string}` {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw new ApiError('BAD_USER_INPUT', `${name} must be 0x and 64 hex digits`, { argument: name });
  return value.toLowerCase() as `0x${string}`;
}
