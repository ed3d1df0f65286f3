// The API's JSON shapes come from the Go types (gen.ts, written by
// build/ci/tsgen; `make lint` fails when it drifts). Only UI-side names live here.
import type { Field, KindSpec, ParamSpec, Platform } from './gen';
import { PLATFORM_VALUES } from './gen';

export * from './gen';

export const PLATFORMS: readonly Platform[] = PLATFORM_VALUES;
export const PLATFORM_NAMES: Record<Platform, string> = {
  velora: 'Velora',
  kichat: 'Kichat / Kick',
  glimesh: 'Glimesh',
  veroai: 'VeroAI',
  socketbase: 'socket-base',
};

export type RuleKind = 'blocked_term' | 'blocked_regex' | 'links' | 'caps' | 'repeat' | 'first_time' | 'symbols' | 'emote_flood' | 'mention_flood' | 'rate' | 'copy_paste' | 'length' | 'name_pattern';

/** RuleKindSpec describes a rule kind for the rules screen (moderation.KindSpec). */
export type RuleKindSpec = KindSpec;
/** RuleParamSpec describes one rule param; type is text, number, flag (1/0) or list (moderation.ParamSpec). */
export type RuleParamSpec = ParamSpec;
/** FieldInfo describes one setting or secret of a platform (service.FieldInfo = connector.Field). */
export type FieldInfo = Field;
