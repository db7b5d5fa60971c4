/** A repository path for a URL: each segment encoded on its own, so `/` stays a separator and `#`, `?` or `%` in a name do not end or bend the path. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
