import type { Response } from 'express';

/** An answer in Bitbucket's error shape: `{"type":"error","error":{"message":...}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function sendError(res: Response, status: number, message: string): void {
  if (res.headersSent) return;
  res.status(status).json({ type: 'error', error: { message } });
}
