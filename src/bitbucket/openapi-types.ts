// GENERATED FILE, do not edit. Regenerate with:
//   node --import tsx src/bitbucket/generate-types.ts [path/to/bitbucket-cloud-openapi.json]
// Source: Bitbucket Cloud OpenAPI components/schemas, extracted into openapi-schemas.json.
// Most fields are optional because the description marks few as required.

export type Account = ObjectSchema & {
  links?: AccountLinks;
  created_on?: string;
  display_name?: string;
  uuid?: string;
};

/** Links related to an Account. */
export type AccountLinks = {
  avatar?: Link;
};

export type Author = ObjectSchema & {
  /** The raw author value from the repository. This may be the only value available if the author does not match a user in Bitbucket. */
  raw?: string;
  user?: Account;
};

export type BaseCommit = ObjectSchema & {
  hash?: string;
  date?: string;
  author?: Author;
  committer?: Committer;
  message?: string;
  summary?: {
    /** The text as it was typed by a user. */
    raw?: string;
    /** The type of markup language the raw content is to be interpreted in. */
    markup?: "markdown" | "creole" | "plaintext";
    /** The user's content rendered as HTML. */
    html?: string;
  };
  parents?: Array<BaseCommit>;
};

export type Branch = Ref & {
  /** Available merge strategies for pull requests targeting this branch. */
  merge_strategies?: Array<"merge_commit" | "squash" | "fast_forward" | "squash_fast_forward" | "rebase_fast_forward" | "rebase_merge">;
  /** The default merge strategy for pull requests targeting this branch. */
  default_merge_strategy?: string;
};

export type Comment = ObjectSchema & {
  id?: number;
  created_on?: string;
  updated_on?: string;
  content?: {
    /** The text as it was typed by a user. */
    raw?: string;
    /** The type of markup language the raw content is to be interpreted in. */
    markup?: "markdown" | "creole" | "plaintext";
    /** The user's content rendered as HTML. */
    html?: string;
  };
  user?: Account;
  deleted?: boolean;
  parent?: Comment;
  inline?: {
    /** The comment's anchor line in the old version of the file. If the comment is a multi-line comment, this is the ending line number in the old version of the file. */
    from?: number;
    /** The comment's anchor line in the new version of the file. If the comment is a multi-line comment, this is the ending line number in the new version of the file. */
    to?: number;
    /** The starting line number in the old version of the file, if the comment is a multi-line comment. This is null otherwise. */
    start_from?: number;
    /** The starting line number in the new version of the file, if the comment is a multi-line comment. This is null otherwise. */
    start_to?: number;
    /** The path of the file this comment is anchored to. */
    path: string;
  };
  links?: {
    /** A link to a resource related to this object. */
    self?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    html?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    code?: {
      href?: string;
      name?: string;
    };
  };
};

/** The resolution object for a Comment. */
export type CommentResolution = {
  type: string;
  user?: Account;
  /** The ISO8601 timestamp the resolution was created. */
  created_on?: string;
};

export type Commit = BaseCommit & {
  repository?: Repository;
  participants?: Array<Participant>;
};

/** A file object, representing a file at a commit in a repository */
export type CommitFile = {
  type: string;
  /** The path in the repository */
  path?: string;
  commit?: Commit;
  attributes?: "link" | "executable" | "subrepository" | "binary" | "lfs";
  /** The escaped version of the path as it appears in a diff. If the path does not require escaping this will be the same as path. */
  escaped_path?: string;
};

export type Commitstatus = ObjectSchema & {
  links?: {
    /** A link to a resource related to this object. */
    self?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    commit?: {
      href?: string;
      name?: string;
    };
  };
  /**
   * An identifier for the status that's unique to
   *         its type (current "build" is the only supported type) and the vendor,
   *         e.g. BB-DEPLOY
   */
  key: string;
  /**
   * The name of the ref that pointed to this commit at the time the status
   * object was created. Note that this the ref may since have moved off of
   * the commit. This optional field can be useful for build systems whose
   * build triggers and configuration are branch-dependent (e.g. a Pipeline
   * build).
   * It is legitimate for this field to not be set, or even apply (e.g. a
   * static linting job).
   */
  refname?: string;
  /** A URL linking back to the vendor or build system, for providing more information about whatever process produced this status. Accepts context variables `repository` and `commit` that Bitbucket will evaluate at runtime whenever at runtime. For example, one could use https://foo.com/builds/{repository.full_name} which Bitbucket will turn into https://foo.com/builds/foo/bar at render time. */
  url?: string;
  /** Provides some indication of the status of this commit */
  state: "FAILED" | "INPROGRESS" | "STOPPED" | "SUCCESSFUL";
  /** An identifier for the build itself, e.g. BB-DEPLOY-1 */
  name?: string;
  /** A description of the build (e.g. "Unit tests in Bamboo") */
  description?: string;
  created_on?: string;
  updated_on?: string;
};

export type Committer = ObjectSchema & {
  /** The raw committer value from the repository. This may be the only value available if the committer does not match a user in Bitbucket. */
  raw?: string;
  user?: Account;
};

/** A diffstat object that includes a summary of changes made to a file between two commits. */
export type Diffstat = {
  type: string;
  status?: "added" | "removed" | "modified" | "renamed";
  lines_added?: number;
  lines_removed?: number;
  old?: CommitFile;
  new?: CommitFile;
};

/** Base type for most resource objects. It defines the common `type` element that identifies an object's type. It also identifies the element as Swagger's `discriminator`. */
export type ErrorSchema = {
  type: string;
  error?: {
    message: string;
    detail?: string;
    /** Optional structured data that is endpoint-specific. */
    data?: { [key: string]: unknown };
  };
};

/** A link to a resource related to this object. */
export type Link = {
  href?: string;
  name?: string;
};

/** Base type for most resource objects. It defines the common `type` element that identifies an object's type. It also identifies the element as Swagger's `discriminator`. */
export type ObjectSchema = {
  type: string;
};

/** A paginated list of annotations. */
export type PaginatedAnnotations = {
  /** Page number of the current results. This is an optional element that is not provided in all responses. */
  page?: number;
  /** The values of the current page. */
  values?: Array<ReportAnnotation>;
  /** Total number of objects in the response. This is an optional element that is not provided in all responses, as it can be expensive to compute. */
  size?: number;
  /** Current number of objects on the existing page. The default value is 10 with 100 being the maximum allowed value. Individual APIs may enforce different values. */
  pagelen?: number;
  /** Link to the next page if it exists. The last page of a collection does not have this value. Use this link to navigate the result set and refrain from constructing your own URLs. */
  next?: string;
  /** Link to previous page if it exists. A collections first page does not have this value. This is an optional element that is not provided in all responses. Some result sets strictly support forward navigation and never provide previous links. Clients must anticipate that backwards navigation is not always available. Use this link to navigate the result set and refrain from constructing your own URLs. */
  previous?: string;
};

/** A paginated list of diffstats. */
export type PaginatedDiffstats = {
  /** Total number of objects in the response. This is an optional element that is not provided in all responses, as it can be expensive to compute. */
  size?: number;
  /** Page number of the current results. This is an optional element that is not provided in all responses. */
  page?: number;
  /** Current number of objects on the existing page. The default value is 500 with 5000 being the maximum allowed value. */
  pagelen?: number;
  /** Link to the next page if it exists. The last page of a collection does not have this value. Use this link to navigate the result set and refrain from constructing your own URLs. */
  next?: string;
  /** Link to previous page if it exists. A collections first page does not have this value. This is an optional element that is not provided in all responses. Some result sets strictly support forward navigation and never provide previous links. Clients must anticipate that backwards navigation is not always available. Use this link to navigate the result set and refrain from constructing your own URLs. */
  previous?: string;
  values?: Array<Diffstat>;
};

/** A paginated list of pullrequest comments. */
export type PaginatedPullrequestComments = {
  /** Total number of objects in the response. This is an optional element that is not provided in all responses, as it can be expensive to compute. */
  size?: number;
  /** Page number of the current results. This is an optional element that is not provided in all responses. */
  page?: number;
  /** Current number of objects on the existing page. The default value is 10 with 100 being the maximum allowed value. Individual APIs may enforce different values. */
  pagelen?: number;
  /** Link to the next page if it exists. The last page of a collection does not have this value. Use this link to navigate the result set and refrain from constructing your own URLs. */
  next?: string;
  /** Link to previous page if it exists. A collections first page does not have this value. This is an optional element that is not provided in all responses. Some result sets strictly support forward navigation and never provide previous links. Clients must anticipate that backwards navigation is not always available. Use this link to navigate the result set and refrain from constructing your own URLs. */
  previous?: string;
  values?: Array<PullrequestComment>;
};

/** A paginated list of reports. */
export type PaginatedReports = {
  /** Page number of the current results. This is an optional element that is not provided in all responses. */
  page?: number;
  /** The values of the current page. */
  values?: Array<Report>;
  /** Total number of objects in the response. This is an optional element that is not provided in all responses, as it can be expensive to compute. */
  size?: number;
  /** Current number of objects on the existing page. The default value is 10 with 100 being the maximum allowed value. Individual APIs may enforce different values. */
  pagelen?: number;
  /** Link to the next page if it exists. The last page of a collection does not have this value. Use this link to navigate the result set and refrain from constructing your own URLs. */
  next?: string;
  /** Link to previous page if it exists. A collections first page does not have this value. This is an optional element that is not provided in all responses. Some result sets strictly support forward navigation and never provide previous links. Clients must anticipate that backwards navigation is not always available. Use this link to navigate the result set and refrain from constructing your own URLs. */
  previous?: string;
};

/** A paginated list of repositories. */
export type PaginatedRepositories = {
  /** Total number of objects in the response. This is an optional element that is not provided in all responses, as it can be expensive to compute. */
  size?: number;
  /** Page number of the current results. This is an optional element that is not provided in all responses. */
  page?: number;
  /** Current number of objects on the existing page. The default value is 10 with 100 being the maximum allowed value. Individual APIs may enforce different values. */
  pagelen?: number;
  /** Link to the next page if it exists. The last page of a collection does not have this value. Use this link to navigate the result set and refrain from constructing your own URLs. */
  next?: string;
  /** Link to previous page if it exists. A collections first page does not have this value. This is an optional element that is not provided in all responses. Some result sets strictly support forward navigation and never provide previous links. Clients must anticipate that backwards navigation is not always available. Use this link to navigate the result set and refrain from constructing your own URLs. */
  previous?: string;
  values?: Array<Repository>;
};

export type Participant = ObjectSchema & {
  user?: Account;
  role?: "PARTICIPANT" | "REVIEWER";
  approved?: boolean;
  state?: "approved" | "changes_requested" | null;
  /** The ISO8601 timestamp of the participant's action. For approvers, this is the time of their approval. For commenters and pull request reviewers who are not approvers, this is the time they last commented, or null if they have not commented. */
  participated_on?: string;
};

export type Project = ObjectSchema & {
  links?: {
    /** A link to a resource related to this object. */
    html?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    avatar?: {
      href?: string;
      name?: string;
    };
  };
  /** The project's immutable id. */
  uuid?: string;
  /** The project's key. */
  key?: string;
  owner?: Team;
  /** The name of the project. */
  name?: string;
  description?: string;
  /**
   * Indicates whether the project is publicly accessible, or whether it is
   * private to the team and consequently only visible to team members.
   * Note that private projects cannot contain public repositories.
   */
  is_private?: boolean;
  created_on?: string;
  updated_on?: string;
  /**
   * Indicates whether the project contains publicly visible repositories.
   * Note that private projects cannot contain public repositories.
   */
  has_publicly_visible_repos?: boolean;
};

export type Pullrequest = ObjectSchema & {
  links?: {
    /** A link to a resource related to this object. */
    self?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    html?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    commits?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    approve?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    diff?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    diffstat?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    comments?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    activity?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    merge?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    decline?: {
      href?: string;
      name?: string;
    };
  };
  /** The pull request's unique ID. Note that pull request IDs are only unique within their associated repository. */
  id?: number;
  /** Title of the pull request. */
  title?: string;
  /** User provided pull request text, interpreted in a markup language and rendered in HTML */
  rendered?: {
    title?: {
      /** The text as it was typed by a user. */
      raw?: string;
      /** The type of markup language the raw content is to be interpreted in. */
      markup?: "markdown" | "creole" | "plaintext";
      /** The user's content rendered as HTML. */
      html?: string;
    };
    description?: {
      /** The text as it was typed by a user. */
      raw?: string;
      /** The type of markup language the raw content is to be interpreted in. */
      markup?: "markdown" | "creole" | "plaintext";
      /** The user's content rendered as HTML. */
      html?: string;
    };
    reason?: {
      /** The text as it was typed by a user. */
      raw?: string;
      /** The type of markup language the raw content is to be interpreted in. */
      markup?: "markdown" | "creole" | "plaintext";
      /** The user's content rendered as HTML. */
      html?: string;
    };
  };
  summary?: {
    /** The text as it was typed by a user. */
    raw?: string;
    /** The type of markup language the raw content is to be interpreted in. */
    markup?: "markdown" | "creole" | "plaintext";
    /** The user's content rendered as HTML. */
    html?: string;
  };
  /** The pull request's current status. */
  state?: "OPEN" | "MERGED" | "DECLINED" | "SUPERSEDED";
  author?: Account;
  source?: PullrequestEndpoint;
  destination?: PullrequestEndpoint;
  merge_commit?: {
    hash?: string;
  };
  /** The number of comments for a specific pull request. */
  comment_count?: number;
  /** The number of open tasks for a specific pull request. */
  task_count?: number;
  /** A boolean flag indicating if merging the pull request closes the source branch. */
  close_source_branch?: boolean;
  closed_by?: Account;
  /** Explains why a pull request was declined. This field is only applicable to pull requests in rejected state. */
  reason?: string;
  /** The ISO8601 timestamp the request was created. */
  created_on?: string;
  /** The ISO8601 timestamp the request was last updated. */
  updated_on?: string;
  /** The list of users that were added as reviewers on this pull request when it was created. For performance reasons, the API only includes this list on a pull request's `self` URL. */
  reviewers?: Array<Account>;
  /**
   * The list of users that are collaborating on this pull request.
   *         Collaborators are user that:
   *
   *         * are added to the pull request as a reviewer (part of the reviewers
   *           list)
   *         * are not explicit reviewers, but have commented on the pull request
   *         * are not explicit reviewers, but have approved the pull request
   *
   *         Each user is wrapped in an object that indicates the user's role and
   *         whether they have approved the pull request. For performance reasons,
   *         the API only returns this list when an API requests a pull request by
   *         id.
   */
  participants?: Array<Participant>;
  /** A boolean flag indicating whether the pull request is a draft. */
  draft?: boolean;
  /** A boolean flag indicating whether the pull request is queued */
  queued?: boolean;
  /** A boolean flag indicating whether the pull request passes all merge checks */
  mergeable?: boolean;
};

export type PullrequestComment = Comment & {
  pullrequest?: Pullrequest;
  resolution?: CommentResolution;
  pending?: boolean;
};

/** Pull Request Endpoint */
export type PullrequestEndpoint = {
  repository?: Repository;
  branch?: {
    name?: string;
    /** Available merge strategies, when this endpoint is the destination of the pull request. */
    merge_strategies?: Array<"merge_commit" | "squash" | "fast_forward" | "squash_fast_forward" | "rebase_fast_forward" | "rebase_merge">;
    /** The default merge strategy, when this endpoint is the destination of the pull request. */
    default_merge_strategy?: string;
  };
  commit?: {
    hash?: string;
  };
};

/** A ref object, representing a branch or tag in a repository. */
export type Ref = {
  type: string;
  links?: {
    /** A link to a resource related to this object. */
    self?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    commits?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    html?: {
      href?: string;
      name?: string;
    };
  };
  /** The name of the ref. */
  name?: string;
  target?: Commit;
};

export type Report = ObjectSchema & {
  /** The UUID that can be used to identify the report. */
  uuid?: string;
  /** The title of the report. */
  title?: string;
  /** A string to describe the purpose of the report. */
  details?: string;
  /** ID of the report provided by the report creator. It can be used to identify the report as an alternative to it's generated uuid. It is not used by Bitbucket, but only by the report creator for updating or deleting this specific report. Needs to be unique. */
  external_id?: string;
  /** A string to describe the tool or company who created the report. */
  reporter?: string;
  /** A URL linking to the results of the report in an external tool. */
  link?: string;
  /** If enabled, a remote link is created in Jira for the work item associated with the commit the report belongs to. */
  remote_link_enabled?: boolean;
  /** A URL to the report logo. If none is provided, the default insights logo will be used. */
  logo_url?: string;
  /** The type of the report. */
  report_type?: "SECURITY" | "COVERAGE" | "TEST" | "BUG";
  /** The state of the report. May be set to PENDING and later updated. */
  result?: "PASSED" | "FAILED" | "PENDING";
  /** An array of data fields to display information on the report. Maximum 10. */
  data?: Array<ReportData>;
  /** The timestamp when the report was created. */
  created_on?: string;
  /** The timestamp when the report was updated. */
  updated_on?: string;
};

export type ReportAnnotation = ObjectSchema & {
  /** ID of the annotation provided by the annotation creator. It can be used to identify the annotation as an alternative to it's generated uuid. It is not used by Bitbucket, but only by the annotation creator for updating or deleting this specific annotation. Needs to be unique. */
  external_id?: string;
  /** The UUID that can be used to identify the annotation. */
  uuid?: string;
  /** The type of the report. */
  annotation_type?: "VULNERABILITY" | "CODE_SMELL" | "BUG";
  /** The path of the file on which this annotation should be placed. This is the path of the file relative to the git repository. If no path is provided, then it will appear in the overview modal on all pull requests where the tip of the branch is the given commit, regardless of which files were modified. */
  path?: string;
  /** The line number that the annotation should belong to. If no line number is provided, then it will default to 0 and in a pull request it will appear at the top of the file specified by the path field. */
  line?: number;
  /** The message to display to users. */
  summary?: string;
  /** The details to show to users when clicking on the annotation. */
  details?: string;
  /** The state of the report. May be set to PENDING and later updated. */
  result?: "PASSED" | "FAILED" | "SKIPPED" | "IGNORED";
  /** The severity of the annotation. */
  severity?: "CRITICAL" | "HIGH" | "MEDIUM" | "LOW";
  /** A URL linking to the annotation in an external tool. */
  link?: string;
  /** The timestamp when the report was created. */
  created_on?: string;
  /** The timestamp when the report was updated. */
  updated_on?: string;
};

/** A key-value element that will be displayed along with the report. */
export type ReportData = {
  /** The type of data contained in the value field. If not provided, then the value will be detected as a boolean, number or string. */
  type?: "BOOLEAN" | "DATE" | "DURATION" | "LINK" | "NUMBER" | "PERCENTAGE" | "TEXT";
  /** A string describing what this data field represents. */
  title?: string;
  /** The value of the data element. */
  value?: { [key: string]: unknown };
};

export type Repository = ObjectSchema & {
  links?: {
    /** A link to a resource related to this object. */
    self?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    html?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    avatar?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    pullrequests?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    commits?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    forks?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    watchers?: {
      href?: string;
      name?: string;
    };
    /** A link to a resource related to this object. */
    downloads?: {
      href?: string;
      name?: string;
    };
    clone?: Array<{
      href?: string;
      name?: string;
    }>;
    /** A link to a resource related to this object. */
    hooks?: {
      href?: string;
      name?: string;
    };
  };
  /** The repository's immutable id. This can be used as a substitute for the slug segment in URLs. Doing this guarantees your URLs will survive renaming of the repository by its owner, or even transfer of the repository to a different user. */
  uuid?: string;
  /** The concatenation of the repository owner's username and the slugified name, e.g. "evzijst/interruptingcow". This is the same string used in Bitbucket URLs. */
  full_name?: string;
  is_private?: boolean;
  parent?: Repository;
  scm?: "git";
  owner?: Account;
  name?: string;
  description?: string;
  created_on?: string;
  updated_on?: string;
  size?: number;
  language?: string;
  /**
   * The issue tracker for this repository is enabled. Issue Tracker
   * features are not supported for repositories in workspaces
   * administered through admin.atlassian.com.
   */
  has_issues?: boolean;
  /**
   * The wiki for this repository is enabled. Wiki
   * features are not supported for repositories in workspaces
   * administered through admin.atlassian.com.
   */
  has_wiki?: boolean;
  /**
   * Controls the rules for forking this repository.
   *
   * * **allow_forks**: unrestricted forking
   * * **no_public_forks**: restrict forking to private forks (forks cannot
   *   be made public later)
   * * **no_forks**: deny all forking
   */
  fork_policy?: "allow_forks" | "no_public_forks" | "no_forks";
  project?: Project;
  mainbranch?: Branch;
};

export type Team = Account & {
  links?: TeamLinks;
};

export type TeamLinks = AccountLinks & {
  self?: Link;
  html?: Link;
  members?: Link;
  projects?: Link;
  repositories?: Link;
};
