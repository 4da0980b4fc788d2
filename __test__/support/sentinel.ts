/**
 * Part of every secret the S3 test servers are given. No error message, inspect() or
 * JSON.stringify() output the suites look at may contain it.
 */
export const SECRET_SENTINEL = 'SENTINELxSECRETx7q';
