// Typed wrappers over the transport, one per backend method.
import { Methods } from './names';
import type { Transport } from './transport';
import type {
  AccountInput, AccountView, ActionRequest, ActionView, ChannelView, DryRunRequest, DryRunResult, MessageVersionView, MessageView,
  MessageContextView, ModEventView, Overview, QueueCountsView, QueueItemView, QueuePageView, QueueQuery, RetentionView, RuleView, ShieldAuto, ShieldRequest, ShieldView, SignInView,
  EverywhereRequest, EverywhereView, NoteView, PeopleMarksView, UserCardView, UserRef, UserSuggestion, WatchView,
  SearchRequest, SearchPageView, AuditQuery, AuditPageView, ModEventQuery, ModEventPageView, RatesView, ExportRequest, ExportTicket,
  ClaimNextView, ClaimView,
} from './types';

export function makeApi(t: Transport) {
  return {
    overview: () => t.call<Overview>(Methods.Overview),
    listAccounts: () => t.call<AccountView[]>(Methods.ListAccounts),
    saveAccount: (a: AccountInput) => t.call<AccountView>(Methods.SaveAccount, a),
    removeAccount: (id: number) => t.call<void>(Methods.RemoveAccount, id),
    signIn: (id: number) => t.call<SignInView>(Methods.SignIn, id),
    signOut: (id: number) => t.call<void>(Methods.SignOut, id),
    listChannels: () => t.call<ChannelView[]>(Methods.ListChannels),
    joinChannel: (accountId: number, name: string) => t.call<ChannelView>(Methods.JoinChannel, accountId, name),
    retryChannel: (channelId: number) => t.call<ChannelView>(Methods.RetryChannel, channelId),
    leaveChannel: (channelId: number) => t.call<void>(Methods.LeaveChannel, channelId),
    recentMessages: (channelId: number, beforeId: number, limit: number) =>
      t.call<MessageView[] | null>(Methods.RecentMessages, channelId, beforeId, limit),
    queue: (channelId: number, limit: number) => t.call<QueueItemView[] | null>(Methods.Queue, channelId, limit),
    queuePage: (q: QueueQuery) => t.call<QueuePageView>(Methods.QueuePage, q),
    queueCounts: () => t.call<QueueCountsView>(Methods.QueueCounts),
    messageContext: (messageId: number, n: number) => t.call<MessageContextView>(Methods.MessageContext, messageId, n),
    resolveItem: (itemId: number, status: 'approved' | 'dismissed') =>
      t.call<QueueItemView>(Methods.ResolveItem, itemId, status),
    act: (req: ActionRequest) => t.call<ActionView>(Methods.Act, req),
    auditLog: (channelId: number, limit: number) => t.call<ActionView[] | null>(Methods.AuditLog, channelId, limit),
    modEvents: (channelId: number, limit: number) => t.call<ModEventView[] | null>(Methods.ModEvents, channelId, limit),
    listRules: () => t.call<RuleView[] | null>(Methods.ListRules),
    saveRule: (r: RuleView) => t.call<RuleView>(Methods.SaveRule, r),
    deleteRule: (id: number) => t.call<void>(Methods.DeleteRule, id),
    dryRunRule: (req: DryRunRequest) => t.call<DryRunResult>(Methods.DryRunRule, req),
    shieldStatus: () => t.call<ShieldView>(Methods.ShieldStatus),
    setShield: (req: ShieldRequest) => t.call<ShieldView>(Methods.SetShield, req),
    setShieldAuto: (auto: ShieldAuto) => t.call<ShieldView>(Methods.SetShieldAuto, auto),
    retention: () => t.call<RetentionView>(Methods.Retention),
    setRetention: (v: RetentionView) => t.call<RetentionView>(Methods.SetRetention, v),
    messageVersions: (messageId: number) => t.call<MessageVersionView[] | null>(Methods.MessageVersions, messageId),
    search: (query: string, channelId: number, limit: number) =>
      t.call<MessageView[] | null>(Methods.Search, query, channelId, limit),
    userCard: (channelId: number, userId: string, username: string) =>
      t.call<UserCardView>(Methods.UserCard, { channelId, userId, username }),
    userMessages: (u: UserRef, channelId: number, beforeId: number, limit: number) =>
      t.call<{ messages: MessageView[]; next?: number }>(Methods.UserMessages, u, channelId, beforeId, limit),
    findUsers: (query: string, near: UserRef) => t.call<UserSuggestion[] | null>(Methods.FindUsers, query, near),
    linkUsers: (a: UserRef, b: UserRef) => t.call<unknown>(Methods.LinkUsers, a, b),
    unlinkUser: (u: UserRef) => t.call<void>(Methods.UnlinkUser, u),
    addNote: (channelId: number, user: UserRef, text: string) => t.call<NoteView>(Methods.AddNote, { channelId, user, text }),
    deleteNote: (id: number) => t.call<void>(Methods.DeleteNote, id),
    watch: (user: UserRef, reason: string, minutes: number, restrict: boolean) =>
      t.call<WatchView>(Methods.Watch, { user, reason, minutes, restrict }),
    unwatch: (u: UserRef) => t.call<void>(Methods.Unwatch, u),
    peopleMarks: () => t.call<PeopleMarksView>(Methods.PeopleMarks),
    resolveUserItems: (channelId: number, userId: string, username: string, status: 'approved' | 'dismissed') =>
      t.call<number>(Methods.ResolveUserItems, channelId, userId, username, status),
    reverse: (actionId: number) => t.call<ActionView>(Methods.Reverse, actionId),
    retryAction: (actionId: number) => t.call<ActionView>(Methods.RetryAction, actionId),
    planEverywhere: (req: EverywhereRequest) => t.call<EverywhereView>(Methods.PlanEverywhere, req),
    banEverywhere: (req: EverywhereRequest) => t.call<EverywhereView>(Methods.BanEverywhere, req),
    searchMessages: (req: SearchRequest) => t.call<SearchPageView>(Methods.SearchMessages, req),
    filterAuditLog: (q: AuditQuery) => t.call<AuditPageView>(Methods.FilterAuditLog, q),
    filterModEvents: (q: ModEventQuery) => t.call<ModEventPageView>(Methods.FilterModEvents, q),
    channelRates: (channelId: number, minutes: number) => t.call<RatesView>(Methods.ChannelRates, channelId, minutes),
    exportFile: (req: ExportRequest) => t.call<ExportTicket>(Methods.Export, req),
    claimNext: (q: QueueQuery) => t.call<ClaimNextView>(Methods.ClaimNext, q),
    claimItems: (itemIds: number[]) => t.call<ClaimView[] | null>(Methods.ClaimItems, itemIds),
    releaseClaims: (itemIds: number[]) => t.call<void>(Methods.ReleaseClaims, itemIds),
    claims: (channelId: number, itemIds: number[]) => t.call<ClaimView[] | null>(Methods.Claims, { channelId, itemIds }),
  };
}

export type Api = ReturnType<typeof makeApi>;
