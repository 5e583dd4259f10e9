// The one catalogue of every error OpenCloak reports: code, HTTP status and a message template.
//
// Every message says what was wrong and how to fix it. Templates name their parameters in braces;
// `AppError` fills them in, and turns an "a" right before one into "an" where the value starts with
// a vowel sound ("a {required} key": an upload_any key). A test checks that each entry is well
// formed and that docs/errors.md lists every code.

export interface ErrorEntry {
  status: number;
  template: string;
  /**
   * What the `opencloak` command line prints instead, where the template points to an HTTP
   * endpoint or speaks of a request: the same parameters, the fix as a command.
   */
  cli?: string;
}

export const ERROR_CATALOGUE = {
  // 400: the request itself cannot be read.
  MALFORMED_REQUEST: {
    status: 400,
    template:
      'The request is not valid HTTP/1.1 ({problem}), so the server could not read it. Check the client or proxy that sent it.',
  },
  BAD_URL: {
    status: 400,
    template:
      'The request URL has a malformed percent-encoding. Encode each path part with encodeURIComponent (a literal % is %25).',
  },
  INVALID_JSON: {
    status: 400,
    template:
      'The request body is not valid JSON ({detail}). Send a JSON document with Content-Type: application/json.',
    cli: 'Not valid JSON ({detail}). Check the file or option named first.',
  },
  FORBIDDEN_KEY: {
    status: 400,
    template:
      '{what} may not be used as a key: the server refuses it everywhere, since code that copies a parsed body could change the prototype of its own objects with it (prototype poisoning). Rename the key.',
  },
  INVALID_BODY: {
    status: 422,
    template: 'The request body is not in the expected form: {detail}',
    cli: 'Not in the expected form: {detail}',
  },
  TASK_NOT_BATCH: {
    status: 400,
    template:
      'Task "{name}" is a {type} task, which runs on its own schedule; only batch tasks can be started on demand.',
  },
  TASK_NOT_PREVIEWABLE: {
    status: 400,
    template:
      'Task "{name}" is a streaming task: the cloak reports it from each user\'s latest run, so there is no run whose cost could be previewed. Preview a batch or periodic task.',
  },
  // 401: authentication.
  CLIENT_CERTIFICATE_REQUIRED: {
    status: 401,
    template:
      'This endpoint needs a client certificate ({keyType} key). Create one on the analyst web site (or with `opencloak key create --type {keyType}`) and send it with the request, e.g. curl --cert-type P12 --cert key.pfx:password.',
  },
  CLIENT_CERTIFICATE_UNTRUSTED: {
    status: 401,
    template:
      'The client certificate was not issued by this installation, or it is malformed or outside its validity period. Use a key created on this installation.',
  },
  CLIENT_KEY_REVOKED: {
    status: 401,
    template: 'The key used for this request has been revoked. Create a new {keyType} key.',
  },
  CLIENT_KEY_UNKNOWN: {
    status: 401,
    template:
      'The key used for this request is not known to this installation. Create a new {keyType} key.',
  },
  WRONG_KEY_TYPE: {
    status: 401,
    template:
      'This endpoint needs a {required} key, but the request was made with a {actual} key. Create a {required} key and use it instead.',
  },
  LOGIN_FAILED: {
    status: 401,
    template: 'The e-mail address or the password is wrong. Check both and try again.',
  },
  SESSION_REQUIRED: {
    status: 401,
    template: 'You are not logged in, or your session has expired. Log in again.',
  },
  // 403: authenticated but not allowed.
  CSRF_TOKEN_INVALID: {
    status: 403,
    template:
      'This request needs the X-CSRF-Token header with the token you got when you logged in (GET /auth/session shows it). Reload the page and try again.',
  },
  ADMIN_REQUIRED: {
    status: 403,
    template:
      'Only admins may manage organisations, users and the audit log. Ask an admin of your installation to do this, or to give you the admin role.',
  },
  KEY_TYPE_NOT_ALLOWED: {
    status: 403,
    template:
      'Your role ({role}) may not create {type} keys: only {allowedRoles} may. You may create: {yourTypes}. Ask an admin of your installation to create this key for the person who needs it, or to give you a role that may.',
  },
  KEY_TYPE_NOT_ALLOWED_FOR_PERSON: {
    status: 403,
    template:
      "{person}'s role ({role}) may not hold {type} keys: only {allowedRoles} may; {person} may hold {theirTypes}. Issue the key for a person whose role allows it, leave out --for to create it as the operator, or change {person}'s role with `opencloak analyst set-role {person} --role <role>`.",
  },
  DATA_ERASE_NOT_ALLOWED: {
    status: 403,
    template:
      'Your role ({role}) may not {what}: it erases uploaded rows, which only {allowedRoles} may do. You may still define tables and add columns. Ask a data owner or an admin of your installation to make this change.',
  },
  SERVICE_KEY_REQUIRED: {
    status: 403,
    template:
      "This endpoint serves the air's service credential (an air_service certificate made with `opencloak service-key create`); a {keyType} key may not use it. Analysts run tasks with a task_runner key, or on the web REST API and the site.",
  },
  // 404: unknown things, including another organisation's.
  ROUTE_NOT_FOUND: {
    status: 404,
    template: 'There is no endpoint {method} {path}. See docs/api.md for the list of endpoints.',
  },
  TASK_NOT_FOUND: {
    status: 404,
    template:
      'There is no task "{task}" in your organisation. List your tasks with GET /api/tasks.',
    cli: 'There is no task "{task}" in this organisation. List its tasks with `opencloak task list --org <org>` and give a task\'s id, token or name.',
  },
  KEY_NOT_FOUND: {
    status: 404,
    template:
      'There is no key "{key}" in your organisation. List your keys on the Keys page (GET /api/site/keys).',
    cli: 'There is no key "{key}" in this organisation. List its keys with `opencloak key list --org <org>`.',
  },
  ANALYST_NOT_FOUND: {
    status: 404,
    template: 'There is no user "{user}". List the users with GET /api/site/admin/users.',
    cli: 'There is no user "{user}". List the people with `opencloak analyst list --org <org>`.',
  },
  ORGANISATION_NOT_FOUND: {
    status: 404,
    template:
      'There is no organisation "{organisation}". List the organisations with GET /api/site/admin/organisations.',
    cli: 'There is no organisation "{organisation}". List them with `opencloak org list`.',
  },
  RESULT_NOT_FOUND: {
    status: 404,
    template:
      'Task "{task}" has no result "{result}". List its results with GET /api/tasks/{task}/results.',
    cli: 'Task "{task}" has no result "{result}". List its results with `opencloak task results {task} --org <org>`.',
  },
  // 409: conflicts with existing state.
  TABLE_EXISTS: {
    status: 409,
    template:
      'A table named "{table}" already exists. Choose another name, or alter the existing table.',
  },
  COLUMN_EXISTS: {
    status: 409,
    template: 'Table "{table}" already has a column named "{column}". Choose another name.',
  },
  TASK_NAME_TAKEN: {
    status: 409,
    template:
      'Your organisation already has a task named "{name}". Choose another name or update that task.',
  },
  NAME_TAKEN: {
    status: 409,
    template: 'A {what} named "{name}" already exists. Choose another name.',
  },
  TOO_MANY_RUNS: {
    status: 429,
    template:
      'Your organisation already has {running} task runs in progress, the most one organisation may have at once (cloak.maxRunsPerOrganisation). Wait for one to finish, or cancel one with DELETE /api/tasks/<token>/runs/<run id>.',
    cli: 'The organisation already has {running} task runs in progress, the most one organisation may have at once (cloak.maxRunsPerOrganisation). Wait for one to finish, or stop one (Ctrl-C in the terminal of its `opencloak task run`).',
  },
  RUN_NOT_FOUND: {
    status: 404,
    template:
      'Task "{task}" has no run "{run}". Runs are kept in memory until the server restarts; list them with GET /api/tasks/{task}/runs.',
  },
  RUN_NOT_ACTIVE: {
    status: 409,
    template: 'Run "{run}" is already {state}; only a running run can be cancelled.',
  },
  TASK_RUN_CANCELLED: {
    status: 409,
    template: 'The task run was cancelled before it finished; nothing was published.',
  },
  TOO_MANY_LOGIN_ATTEMPTS: {
    status: 429,
    template: 'Too many failed logins. Wait {seconds} seconds before trying again.',
  },
  LOGIN_BUSY: {
    status: 429,
    template:
      'The server is checking as many logins as it allows just now. Wait {seconds} seconds and try again; logins from an address you used before are let through first.',
  },
  // 408 / 413 / 414 / 415 / 431: transport.
  REQUEST_TIMEOUT: {
    status: 408,
    template:
      'The request was not received completely within {seconds} seconds. Send it again over a faster connection, or split an upload into smaller requests.',
  },
  URL_TOO_LONG: {
    status: 414,
    template:
      'A part of the request URL is longer than {limit} characters, the most a name or id in a path may have. Check the URL.',
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    template:
      'The request headers are larger than the limit of {limit} bytes. Send fewer or shorter headers (for example, clear old cookies for this site).',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    template:
      'The request body is larger than the limit of {limit} bytes. Split the upload into smaller requests.',
  },
  INVALID_GZIP: {
    status: 400,
    template:
      'The request body is labelled Content-Encoding: gzip but is not valid gzip data ({detail}). Compress it with gzip, or send it uncompressed without that header.',
  },
  UNSUPPORTED_ENCODING: {
    status: 415,
    template:
      'Content-Encoding "{encoding}" is not supported. Send the body uncompressed or with Content-Encoding: gzip.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    template:
      'Content-Type "{type}" is not supported. Send JSON with Content-Type: application/json.',
  },
  // 422: well-formed requests with values that cannot be used.
  DUPLICATE_KEY: {
    status: 422,
    template:
      "{what} occurs twice in one object (the second time at position {position}), and JSON keeps only the last: what the first held would be lost without a word. Give each key once; in an upload, each user once and each of a user's tables once, with all its rows in one list.",
  },
  INVALID_NAME: {
    status: 422,
    template:
      '"{name}" is not a valid {what} name: start with a letter, then use only letters, digits and underscores (at most 63 characters), and do not start with "ac_".',
  },
  INVALID_COLUMN_TYPE: {
    status: 422,
    template:
      'Column "{column}" has type "{type}", which is not supported. Use one of: integer, bigint, float, double, boolean, varchar(N) with 1 <= N <= 65535, text.',
  },
  DUPLICATE_COLUMN: {
    status: 422,
    template: 'Column "{column}" is declared more than once. Give each column a distinct name.',
  },
  NO_COLUMNS: {
    status: 422,
    template: 'Table "{table}" must have at least one column.',
  },
  UNKNOWN_TABLE: {
    status: 422,
    template:
      'There is no table named "{table}". Create it first, or check the spelling (existing tables: {known}).',
  },
  UNKNOWN_LOOKUP_TABLE: {
    status: 422,
    template:
      'There is no lookup table named "{table}". Upload it first, or check the spelling (existing lookup tables: {known}).',
  },
  UNKNOWN_COLUMN: {
    status: 422,
    template: '{where}: table "{table}" has no column "{column}" (its columns: {known}).',
  },
  INVALID_VALUE: {
    status: 422,
    template: 'User "{user}", table "{table}", row {row}, column "{column}": {problem}',
  },
  INVALID_ROW: {
    status: 422,
    template: 'User "{user}", table "{table}", row {row}: {problem}',
  },
  IMPORT_INVALID_LINE: {
    status: 422,
    template:
      '{source}, line {line}: {problem} Nothing from line {first} on was stored ({stored} rows before it were); fix the file and resume with --from-line {first}, or with --resume.',
  },
  INVALID_USER_ID: {
    status: 422,
    template: 'User id "{user}" is not valid: {problem}',
  },
  INVALID_PREFETCH: {
    status: 422,
    template: 'Prefetch {path}: {problem}',
  },
  INVALID_PAGINATION: {
    status: 422,
    template:
      'Query parameter "{param}" must be a whole number from {min} to {max}; got "{value}".',
    cli: '{param} must be a whole number from {min} to {max}; got "{value}".',
  },
  INVALID_TASK_CODE: {
    status: 422,
    template: 'The task code does not compile: {detail}',
  },
  INVALID_SQL_TASK: {
    status: 422,
    template:
      'The SQL task is outside the supported subset or does not fit the tables: {detail} See docs/sql.md for what a sql task may contain.',
  },
  TRY_TASK_TIMEOUT: {
    status: 422,
    template:
      'Try it stopped after {seconds} seconds (cloak.tryTimeoutSeconds), with {done} of {total} test users run; {timeouts} of them hit the limit of {userMs} ms per user. Try fewer test users, or make the task finish sooner for them.',
  },
  INVALID_KEY_PASSWORD: {
    status: 422,
    template: 'The key password must be at least {min} characters long.',
  },
  INVALID_PARAMETER: {
    status: 422,
    template: '{detail}',
  },
  // Operating the data directory (the opencloak command: start, backup, restore).
  DATA_DIR_IN_USE: {
    status: 409,
    template:
      'The data directory {dir} is in use by process {pid} (started {started}). Only one server may use a data directory: stop that process first, or give this one another --data-dir.',
  },
  PORT_IN_USE: {
    status: 409,
    template:
      'The {api} cannot listen on {host}:{port}: another program uses that port (perhaps another OpenCloak). Stop it, or choose another port with {flag} <port> (setting {setting}).',
  },
  RESTORE_TARGET_NOT_EMPTY: {
    status: 409,
    template:
      'The data directory {dir} is not empty (it holds {found}). Restore into a new or empty directory, or add --force to replace the installation there (its air.db, cloak.db, pki/ and secrets/ are deleted).',
  },
  BACKUP_TARGET_NOT_EMPTY: {
    status: 409,
    template:
      'The backup directory {dir} is not empty. Give a new or empty directory, so that no older file is mixed into this backup.',
  },
  BACKUP_INVALID: {
    status: 422,
    template:
      '{dir} is not a whole OpenCloak backup ({detail}). Give a directory written by `opencloak backup`.',
  },
  NOISE_SECRET_MISSING: {
    status: 503,
    template:
      'The data directory holds data ({found}) but not its noise secret {file}. A new secret would answer the same data with fresh noise, so that old and new answers could be averaged: OpenCloak will not make one. Restore the whole data directory with `opencloak restore <backup dir>`, or put back the noise.key that belongs to this data.',
  },
  NOISE_SECRET_MISMATCH: {
    status: 503,
    template:
      "The noise secret {file} is not the one the other servers on this cloak store (cloak.store) use: this server would key every user differently, so that their participation budget would be spent again, and answer with other noise. Copy secrets/noise.key from a server of this installation into this data directory, or point cloak.store at this installation's own database.",
  },
  CLOAK_BOOKKEEPING_LEFT_LOCAL: {
    status: 503,
    template:
      '{file} holds the cloak\'s bookkeeping ({found}), but cloak.store is a PostgreSQL database, where the participation budget, the release epochs and the streaming state live in server mode: starting would silently forget them, and with the budget what users have spent. Copy the tables budget_runs, budget_buckets, budget_pages, budget_disclosures, release_epochs, streaming_tasks and streaming_users into that database and delete them from {file} (a file that still has budget_users, from an older release, gets budget_pages instead when the cloak starts once without cloak.store) (docs/cloak-bookkeeping.md, "Where they live"), or leave cloak.store out to go on with {file}.',
  },
  // 5xx.
  DISK_FULL: {
    status: 507,
    template:
      "The server's disk is full: {what} Free disk space on the server (or ask its operator to), then try again.",
  },
  SERVER_DRAINING: {
    status: 503,
    template:
      'The server is shutting down: it lets the runs in progress finish and starts no new ones. Try again once it is back, or on another server of this installation.',
  },
  TASK_RUN_SHUTDOWN: {
    status: 503,
    template:
      'The server shut down before the task run finished (it waited {seconds} seconds for it, shutdown.drainSeconds); nothing was published. Run the task again once the server is back.',
  },
  NOT_READY: {
    status: 503,
    template:
      'The server is not ready to take requests: {reason}. A load balancer should send requests elsewhere until it is.',
  },
  SERVER_CLOSING: {
    status: 503,
    template:
      'The server is shutting down and takes no new requests. Try again once it is back (usually within a minute).',
  },
  CLOAK_UNREACHABLE: {
    status: 503,
    template:
      'The cloak at {url} did not answer as expected ({reason}). Check that it runs (`opencloak start --cloak-only`), that --cloak names its address, and that the air has a current service key (`opencloak service-key create`).',
  },
  TASK_RUN_TIMEOUT: {
    status: 504,
    template:
      'The task run did not finish within {seconds} seconds. Narrow the prefetch, or raise cloak.taskTimeoutSeconds.',
  },
  RUN_SHARD_FAILED: {
    status: 502,
    template:
      'Shard {shard} of the task run failed on its workers ({detail}), so the run was stopped and nothing was published. Check the `opencloak worker` logs, then run the task again.',
  },
  QUEUE_UNREACHABLE: {
    status: 503,
    template:
      'The job queue ({queue}) could not be reached ({detail}). Check that PostgreSQL is running there and that queue.url (--queue) names the right host, port and database.',
  },
  WORKER_NOISE_SECRET_MISSING: {
    status: 503,
    template:
      'opencloak worker found no noise secret at {file}. A worker never makes one: a new secret would give every user another key and every run fresh noise. Copy secrets/noise.key from the server\'s data directory to that path, readable by the worker\'s user only (mode 0600), then start the worker again (docs/server-mode.md, "Workers on other hosts").',
  },
  WORKER_STORE_UNAVAILABLE: {
    status: 503,
    template:
      "opencloak worker could not read the cloak's data store ({store}): {detail}. Check that the database is running and reachable from this host and that cloak.store (--store) names the one the server uses; without --store the worker reads cloak.db in its data directory, which must then be the server's.",
  },
  RUN_QUEUE_UNAVAILABLE: {
    status: 503,
    template:
      'The job queue ({queue}) could not be reached during the task run ({detail}), so the run was stopped and nothing was published. Check that PostgreSQL is running and queue.url is right, then run the task again.',
  },
  INTERNAL: {
    status: 500,
    template:
      'An internal error occurred (reference {reference}). The operation was not completed; try again, and report the reference if it persists.',
  },
  MAINTENANCE: {
    status: 503,
    template: 'The installation is in maintenance. Try again in a few minutes.',
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
