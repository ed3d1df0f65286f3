// Event and method names shared with the Go side. The Go service and the
// browser-mode routes use exactly these strings; change both together.

/** Events names the events the backend emits. */
export const Events = {
  /** Batch carries a service.Batch: everything new since the last batch. */
  Batch: 'console:batch',
} as const;

/** Methods lists the bound App methods (desktop) and /api/<Method> routes (browser). */
export const Methods = {
  Overview: 'Overview',
  ListAccounts: 'ListAccounts',
  SaveAccount: 'SaveAccount',
  RemoveAccount: 'RemoveAccount',
  SignIn: 'SignIn',
  SignOut: 'SignOut',
  ListChannels: 'ListChannels',
  JoinChannel: 'JoinChannel',
  RetryChannel: 'RetryChannel',
  LeaveChannel: 'LeaveChannel',
  RecentMessages: 'RecentMessages',
  Queue: 'Queue',
  ResolveItem: 'ResolveItem',
  Act: 'Act',
  AuditLog: 'AuditLog',
  ModEvents: 'ModEvents',
  ListRules: 'ListRules',
  SaveRule: 'SaveRule',
  DeleteRule: 'DeleteRule',
  DryRunRule: 'DryRunRule',
  ShieldStatus: 'ShieldStatus',
  SetShield: 'SetShield',
  SetShieldAuto: 'SetShieldAuto',
  Retention: 'Retention',
  SetRetention: 'SetRetention',
  MessageVersions: 'MessageVersions',
  Search: 'Search',
  QueuePage: 'QueuePage',
  QueueCounts: 'QueueCounts',
  MessageContext: 'MessageContext',
  SearchMessages: 'SearchMessages',
  FilterAuditLog: 'FilterAuditLog',
  FilterModEvents: 'FilterModEvents',
  Export: 'Export',
  ChannelRates: 'ChannelRates',
  UserCard: 'UserCard',
  UserMessages: 'UserMessages',
  FindUsers: 'FindUsers',
  LinkUsers: 'LinkUsers',
  UnlinkUser: 'UnlinkUser',
  AddNote: 'AddNote',
  DeleteNote: 'DeleteNote',
  Watch: 'Watch',
  Unwatch: 'Unwatch',
  PeopleMarks: 'PeopleMarks',
  ResolveUserItems: 'ResolveUserItems',
  Reverse: 'Reverse',
  PlanEverywhere: 'PlanEverywhere',
  BanEverywhere: 'BanEverywhere',
  ActionGroup: 'ActionGroup',
  RetryAction: 'RetryAction',
  ClaimNext: 'ClaimNext',
  ClaimItems: 'ClaimItems',
  ReleaseClaims: 'ReleaseClaims',
  Claims: 'Claims',
} as const;

export type MethodName = (typeof Methods)[keyof typeof Methods];

/** Routes used in browser mode. */
export const Routes = {
  apiPrefix: '/api/',
  events: '/api/events',
  /** tokenParam carries the printed token on the first page load only; the server trades it for the cookie. */
  tokenParam: 'token',
} as const;
