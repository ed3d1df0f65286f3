export const RULES: [RegExp, string][];
export const MARKUP_RULES: [RegExp, string][];
export function scan(text: string, file: string): { line: number; what: string; text: string }[];
