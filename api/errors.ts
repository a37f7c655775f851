/**
 * Every error the API returns carries `extensions.code`, stable for clients to branch on:
 * UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, RATE_LIMITED, PERSISTED_QUERY_ONLY,
 * UNAVAILABLE (a backing service is down), and the sequencer's own codes for refused
 * transactions (BAD_NONCE, BAD_SIGNATURE, NO_CONSENT, ...). Messages never carry health data:
 * there is none in the API's reach.
 */
import { GraphQLError } from 'graphql';

export type ApiErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'RATE_LIMITED'
  | 'PERSISTED_QUERY_ONLY'
  | 'UNAVAILABLE'
  | (string & {});

export class ApiError extends GraphQLError {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...extra } });
  }
}
