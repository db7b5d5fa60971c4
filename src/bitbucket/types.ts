/**
 * What callers send to Bitbucket. Built from the generated OpenAPI types so a renamed field or
 * enum value there breaks the build here; fields Bitbucket accepts but its OpenAPI omits are
 * marked as such.
 */
import type { Comment, Commitstatus, Report, ReportAnnotation, ReportData } from './openapi-types.ts';

type Defined<T> = Exclude<T, undefined>;

/**
 * One `data` item of a report. The OpenAPI types `value` as an object; the endpoint's own
 * documentation gives one value type per data type, which is what this union encodes.
 */
export type ReportDataInput = { title: string } & (
  | { type: 'BOOLEAN'; value: boolean }
  | { type: 'DATE' | 'DURATION' | 'NUMBER' | 'PERCENTAGE'; value: number }
  | { type: 'LINK'; value: { text: string; href: string } }
  | { type: 'TEXT'; value: string }
);

export type ReportInput = Required<Pick<Report, 'title' | 'details' | 'report_type'>> &
  Pick<Report, 'result' | 'reporter' | 'link' | 'logo_url' | 'external_id' | 'remote_link_enabled'> & {
    /** At most MAX_REPORT_DATA items. */
    data?: ReportDataInput[];
  };

export type AnnotationInput = Required<Pick<ReportAnnotation, 'external_id' | 'annotation_type' | 'summary'>> &
  Pick<ReportAnnotation, 'path' | 'line' | 'details' | 'result' | 'severity' | 'link'> & {
    /** Accepted by the API (and in Atlassian's own examples), absent from the OpenAPI schema. */
    title?: string;
  };

export type BuildStatusInput = Pick<Commitstatus, 'key' | 'state'> &
  Partial<Pick<Commitstatus, 'name' | 'url' | 'refname'>> & {
    /** Accepted by the API and shown under the status, absent from the OpenAPI schema. */
    description?: string;
  };

export interface CommentInput {
  /** Markdown. */
  raw: string;
  inline?: Defined<Comment['inline']>;
}

/** Which diff: a pull request's (Bitbucket redirects to its `diff/{spec}`), or an explicit spec. */
export type DiffTarget = { pullRequestId: number } | { spec: string };

export interface DiffOptions {
  context?: number;
  path?: string | string[];
  ignoreWhitespace?: boolean;
  binary?: boolean;
  renames?: boolean;
  topic?: boolean;
  merge?: boolean;
}

export interface ListRepositoriesOptions {
  role?: 'member' | 'contributor' | 'admin' | 'owner';
  q?: string;
  sort?: string;
  pagelen?: number;
}

// Compile-time ties between the hand-written unions above and the OpenAPI enums.
type SameSet<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
type _ReportDataTypesMatchOpenApi = Assert<SameSet<ReportDataInput['type'], Defined<ReportData['type']>>>;
