/** Bad command line: exit status 2, the message and a pointer to --help on stderr. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Input the user pointed at that cannot be used (missing path, unreadable diff): exit status 2, no usage hint. */
export class InputError extends Error {
  override name = 'InputError';
}
