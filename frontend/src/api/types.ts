// Mirrors backend/service/views.go and backend/chat/chat.go. Change together.

export type Platform = 'velora' | 'kichat' | 'glimesh' | 'veroai' | 'socketbase';
export const PLATFORMS: Platform[] = ['velora', 'kichat', 'glimesh', 'veroai', 'socketbase'];
export const PLATFORM_NAMES: Record<Platform, string> = {
  velora: 'Velora',
  kichat: 'Kichat / Kick',
  glimesh: 'Glimesh',
  veroai: 'VeroAI',
  socketbase: 'socket-base',
};

/** joining/rejoining: a channel's state while the platform has not confirmed its join since the (re)connect. */
export type Status = 'connecting' | 'connected' | 'guest' | 'reconnecting' | 'failed' | 'stopped' | 'joining' | 'rejoining';
export type ActionKind = 'ban' | 'timeout' | 'unban' | 'delete' | 'clear' | 'pin' | 'announce' | 'send';
export type TokenKind = 'text' | 'emote' | 'link';

export interface User {
  id: string;
  username: string;
  displayName?: string;
  color?: string;
  badges?: string[];
  role?: string;
  isBot?: boolean;
}

export interface Reply {
  messageId: string;
  username?: string;
  snippet?: string;
}

export interface Token {
  kind: TokenKind;
  text: string;
  url?: string;
}

export interface ActionSpec {
  supported: boolean;
  inferred?: boolean;
  note?: string;
}

export interface Capabilities {
  /** noTimeoutLift says why an unban cannot lift a timeout early (Glimesh). */
  noTimeoutLift?: string;
  actions: Partial<Record<ActionKind, ActionSpec>> | null;
  /** The platform's limit on the text a send/announce puts on the wire, in messageUnit; the API checks it. */
  maxMessage?: number;
  /** How maxMessage counts: runes (default), utf16 (JavaScript's length: an emoji counts 2) or bytes. */
  messageUnit?: 'runes' | 'utf16' | 'bytes';
  /** The longest timeout the platform takes, in seconds (0/missing: the console's own bound). */
  maxTimeout?: number;
  /** The longest reason the platform takes, in characters (0/missing: the console's own bound). */
  maxReason?: number;
  /** Who sets these limits, as named in refusals. */
  limitsBy?: string;
  readOnly?: boolean;
  announceColors?: string[];
  timeoutPresets?: number[];
  /** replies: a send can answer a message (ActionRequest.replyToId). */
  replies?: boolean;
  /** effects: message effects a send can carry (suggestions; empty or missing = none). */
  effects?: string[] | null;
}

export interface Health {
  status: Status;
  error?: string;
  since: number;
  reconnects: number;
  nextRetry?: number;
  /** Events received for no joined channel, per platform event name (skipped, counted). */
  unrouted?: Record<string, number>;
}

export interface AccountView {
  id: number;
  platform: Platform;
  name: string;
  settings: Record<string, string> | null;
  hasToken: boolean;
  guest: boolean;
  health: Health;
  secretKeys?: string[];
  /** stored secrets not sent because an endpoint now points at a host they were not entered for ("token" = the main token). */
  held?: string[];
  /** the endpoint hosts the held secrets would go to. */
  heldHosts?: string[];
  /** the browser sign-in (absent: the platform has none). */
  oauth?: OAuthView;
  /** a pasted token's expiry (a JWT's exp), unix ms. */
  tokenExpires?: number;
}

/** OAuthView mirrors service.OAuthView: an account's browser sign-in, never a token. */
export interface OAuthView {
  signedIn: boolean;
  /** the developer app in use. */
  clientId?: string;
  scopes?: string[];
  /** actions the granted scopes do not allow, e.g. "ban: needs moderation:ban". */
  missing?: string[];
  /** the access token's expiry, unix ms. */
  expires?: number;
  /** set: sign in again, with the platform's reason (actions wait). */
  signIn?: string;
  pending?: boolean;
  error?: string;
}

/** SignInView mirrors service.SignInView: the page to open in the system browser. */
export interface SignInView {
  url: string;
  redirect: string;
}

export interface AccountInput {
  id: number;
  platform: Platform;
  name: string;
  settings: Record<string, string>;
  token?: string;
  clearToken?: boolean;
  secrets?: Record<string, string>;
  /** send the stored secrets to the endpoint hosts as they are after this save (see AccountView.held). */
  confirmHosts?: boolean;
}

export interface PinView {
  text: string;
  user: string;
  until?: number;
}

export interface ChannelView {
  id: number;
  accountId: number;
  platform: Platform;
  name: string;
  health: Health;
  readOnly: boolean;
  viewers: number;
  pinned?: PinView | null;
  state?: Record<string, unknown> | null;
  capabilities: Capabilities;
  queueOpen: number;
  /** The platform refused the join for good (health says why); only a retry joins it again. */
  joinFailed?: boolean;
}

export interface MessageView {
  id: number;
  channelId: number;
  platform: Platform;
  platformId: string;
  user: User;
  text: string;
  tokens?: Token[] | null;
  replyTo?: Reply | null;
  at: number;
  deleted: boolean;
  held: boolean;
  /** note says why it was deleted: "banned", "timed out until 21:04". */
  note?: string;
  /** edits counts how often the text was edited; MessageVersions has the earlier texts. */
  edits?: number;
}

/** MessageVersionView is a text a message had before an edit. */
export interface MessageVersionView {
  text: string;
  replacedAt: number; // unix ms
}

export interface QueueItemView {
  id: number;
  channelId: number;
  message: MessageView;
  reasons: string[] | null;
  status: string;
  at: number;
  /** strikes of the person in 30 days (from Queue/QueuePage; absent on live items). */
  strikes?: number;
}

export interface ActionRequest {
  channelId: number;
  kind: ActionKind;
  itemId?: number;
  messageId?: number;
  userId?: string;
  username?: string;
  durationSeconds?: number;
  reason?: string;
  text?: string;
  /** color: the announcement colour, or on send the effect colour (#rrggbb). */
  color?: string;
  /** replyToId: send only, our row id of the message answered (capabilities.replies). */
  replyToId?: number;
  /** effect: send only, a message effect (capabilities.effects). */
  effect?: string;
}

export interface ActionView {
  id: number;
  key: string;
  channelId: number;
  platform: Platform;
  kind: ActionKind;
  target?: string;
  params?: string;
  status: string;
  outcome?: string;
  evidence?: number[];
  /** actor is who made it: absent for the local moderator, "rule:<name>" for a rule's automatic action. */
  actor?: string;
  created: number;
  updated: number;
  /** parentId is the "ban everywhere" group it belongs to. */
  parentId?: number;
  /** resolvedItems: other held messages of the user this ban or timeout resolved. */
  resolvedItems?: number;
  /** undo names the reversal (unban, lift timeout, unpin); undoRefused says why it cannot be done. */
  undo?: string;
  undoRefused?: string;
}

export interface ModEventView {
  id: number;
  channelId: number;
  kind: string;
  user?: string;
  /** userId and username name the user for the card and for reversals. */
  userId?: string;
  username?: string;
  actor?: string;
  text?: string;
  expires?: number;
  at: number;
}

export type RuleKind = 'blocked_term' | 'blocked_regex' | 'links' | 'caps' | 'repeat' | 'first_time' | 'symbols' | 'emote_flood' | 'mention_flood' | 'rate' | 'copy_paste' | 'length' | 'name_pattern';

export interface RuleView {
  id: number;
  kind: RuleKind | string;
  name: string;
  enabled: boolean;
  params: Record<string, string> | null;
  channelId: number;
  /** position orders evaluation: lower first, then id. */
  position?: number;
}

export interface MessageUpdate {
  channelId: number;
  ids?: number[];
  userId?: string;
  /** The user named by username only (the platform gave no id); matched without regard to case. */
  username?: string;
  cleared?: boolean;
  deleted: boolean;
  note?: string;
  /** text is the message's new text, after an edit. */
  text?: string | null;
  edited?: boolean;
}

export interface Notice {
  level: 'info' | 'warn' | 'error' | string;
  channelId?: number;
  text: string;
  at: number;
}

export interface Batch {
  messages?: MessageView[];
  updates?: MessageUpdate[];
  queue?: QueueItemView[];
  actions?: ActionView[];
  channels?: ChannelView[];
  accounts?: AccountView[];
  events?: ModEventView[];
  notices?: Notice[];
  dropped?: number;
  /** shield is Shield mode's new state, when it changed. */
  shield?: ShieldView;
  /** people: watched and noted users, after a change (not yet shown in chat). */
  people?: PeopleMarksView;
}

export interface KeyringStatus {
  ok: boolean;
  backend: string;
  error?: string;
  /** false: tokens live in memory for this run only (--secrets memory). */
  saved?: boolean;
}

export interface Overview {
  mode: 'desktop' | 'browser';
  version: string;
  keyring: KeyringStatus;
  accounts: AccountView[];
  channels: ChannelView[];
  /** platforms says, per platform, what its token is and which secrets and settings it takes (absent from older backends). */
  platforms?: PlatformInfo[] | null;
  /** ruleKinds describes every rule kind and its params (mirrors moderation.KindSpec). */
  ruleKinds?: RuleKindSpec[] | null;
  /** shield is Shield mode's state. */
  shield?: ShieldView;
}

/** RuleKindSpec describes a rule kind for the rules screen. */
export interface RuleKindSpec {
  kind: string;
  label: string;
  help: string;
  params: RuleParamSpec[] | null;
}

/** RuleParamSpec describes one rule param; type is text, number, flag (1/0) or list. */
export interface RuleParamSpec {
  key: string;
  label: string;
  default?: string;
  type: 'text' | 'number' | 'flag' | 'list';
  required?: boolean;
  help?: string;
}

/** FieldInfo describes one setting or secret of a platform. */
export interface FieldInfo {
  key: string;
  label: string;
  default?: string;
  /** required settings must be filled for the connection to start. */
  required?: boolean;
  /** endpoint: a URL the account's secrets are sent to; its host binds them (changing it holds them back until confirmed). */
  endpoint?: boolean;
}

/** PlatformInfo tells the accounts screen how to sign in to a platform. Secret values never come back. */
export interface PlatformInfo {
  platform: Platform;
  label: string;
  /** tokenLabel empty: the platform takes no main token. */
  tokenLabel: string;
  secrets?: FieldInfo[] | null;
  settings: FieldInfo[] | null;
  /** present: the platform signs in through the browser (OAuth). */
  oauth?: { scopes: string[] | null; inferred?: boolean; secretRequired?: boolean } | null;
}

/** DryRunRequest asks what a rule would have caught in the logged history (mirrors service.DryRunRequest). */
export interface DryRunRequest {
  rule: RuleView;
  channelId: number;
  last: number;
  since: number;
  until: number;
}

/** DryRunResult is what a dry run found (mirrors service.DryRunResult). */
export interface DryRunResult {
  scanned: number;
  matched: number;
  alreadyHeld: number;
  channels: { channelId: number; scanned: number; matched: number }[] | null;
  sample: { message: MessageView; reason: string }[] | null;
  tookMs: number;
}

/** ShieldView is Shield mode's state (mirrors service.ShieldView). */
export interface ShieldView {
  on: boolean;
  since?: number;
  /** until is unix ms; absent or 0 = until switched off. */
  until?: number;
  reason?: string;
  channels?: { channelId: number; modes?: string[] | null; slowSeconds?: number; note?: string }[] | null;
  ruleIds?: number[] | null;
  auto: ShieldAuto;
}

/** ShieldRequest switches Shield on or off (mirrors service.ShieldRequest). */
export interface ShieldRequest {
  on: boolean;
  channelIds?: number[];
  minutes?: number;
  slowSeconds?: number;
  modes?: string[];
}

/** ShieldAuto arms Shield on a surge of first-time chatters (mirrors service.ShieldAuto). */
export interface ShieldAuto {
  enabled: boolean;
  firstTimers: number;
  windowSeconds: number;
  minutes: number;
  channelIds?: number[] | null;
}

// ---- people (user card, links, notes, watchlist, ban everywhere) ----

export interface UserRef {
  platform: Platform;
  userId?: string;
  username?: string;
}

export interface LinkedUserView {
  user: UserRef;
  linkedBy?: string;
  linkedAt?: number;
  messages?: MessageView[];
}

export interface HistoryEntry {
  source: 'action' | 'platform';
  at: number;
  channelId: number;
  platform: Platform;
  kind: string;
  actor?: string;
  reason?: string;
  durationSeconds?: number;
  expires?: number;
  action?: ActionView;
  eventId?: number;
}

export interface NoteView {
  id: number;
  user: UserRef;
  channelId?: number;
  text: string;
  author: string;
  created: number;
}

export interface WatchView {
  user: UserRef;
  reason?: string;
  restrict?: boolean;
  expires?: number;
  author: string;
  created: number;
}

export interface UserCardView {
  channelId: number;
  user: UserRef;
  displayName?: string;
  role?: string;
  badges?: string[];
  firstSeen?: number;
  messageCount: number;
  messages: MessageView[];
  messagesNext?: number;
  personId?: number;
  linked: LinkedUserView[];
  history: HistoryEntry[];
  strikes: number;
  strikeDays: number;
  notes: NoteView[];
  watch?: WatchView;
}

export interface UserSuggestion {
  user: UserRef;
  channelId: number;
  score: number;
  why: string[];
}

export interface PeopleMarksView {
  watches: WatchView[];
  noted: UserRef[];
}

export interface EverywhereRequest {
  user: UserRef;
  kind: 'ban' | 'timeout';
  durationSeconds?: number;
  reason?: string;
}

export interface EverywhereTarget {
  channelId: number;
  channel: string;
  platform: Platform;
  user: UserRef;
  allowed: boolean;
  note?: string;
  error?: string;
  action?: ActionView;
}

export interface EverywhereView {
  groupId?: number;
  kind: string;
  targets: EverywhereTarget[];
}
