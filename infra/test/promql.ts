/**
 * What a PromQL expression refers to: its series selectors (metric name and label matchers) and the
 * labels its `by`/`without`/`on`/`ignoring`/`group_*` clauses name. Enough of PromQL's lexical
 * grammar to find names in dashboard queries, Grafana variables (`$__rate_interval`, `${name}`)
 * included; anything it does not recognise throws, so an unreadable query fails instead of passing.
 */

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  metric: string;
  matchers: Matcher[];
}

export interface PromqlReferences {
  selectors: Selector[];
  groupingLabels: string[];
}

type TokenKind = 'ident' | 'string' | 'number' | 'variable' | 'punct';
interface Token {
  kind: TokenKind;
  text: string;
  at: number;
}

const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);
const MATCH_OPS = new Set(['=', '!=', '=~', '!~']);

const PATTERNS: ReadonlyArray<[TokenKind | 'skip', RegExp]> = [
  ['skip', /^(?:\s+|#[^\n]*)/],
  ['string', /^(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/],
  ['variable', /^(?:\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[^\]]+\]\])/],
  // Durations (5m, 1h30m, 100ms) and numbers (0.99, 1e-3, 0x1f) alike: neither names anything.
  ['number', /^(?:0x[0-9a-fA-F]+|(?:\d+(?:ms|[smhdwy]))+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/],
  ['ident', /^[A-Za-z_:][A-Za-z0-9_:]*/],
  ['punct', /^(?:=~|!~|!=|==|>=|<=|[{}()[\],=<>+\-*/%^@:])/],
];

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < expr.length) {
    const rest = expr.slice(at);
    const match = PATTERNS.map(([kind, pattern]) => [kind, pattern.exec(rest)?.[0]] as const).find(
      ([, text]) => text !== undefined && text.length > 0,
    );
    if (!match) throw new Error(`PromQL: unexpected ${JSON.stringify(rest[0])} at ${at} in ${expr}`);
    const [kind, text = ''] = match;
    if (kind !== 'skip') tokens.push({ kind, text, at });
    at += text.length;
  }
  return tokens;
}

/** The string literal's value (PromQL strings are Go-quoted; label values need no more). */
function unquote(token: Token): string {
  return token.text.slice(1, -1).replace(/\\(.)/g, '$1');
}

export function promqlReferences(expr: string): PromqlReferences {
  const tokens = tokenize(expr);
  const selectors: Selector[] = [];
  const groupingLabels: string[] = [];
  let i = 0;
  const fail = (what: string): never => {
    const token = tokens[i];
    throw new Error(`PromQL: ${what} at ${token ? token.at : expr.length} in ${expr}`);
  };
  const next = (): Token => tokens[i++] ?? fail('unexpected end');
  const peek = (): Token | undefined => tokens[i];

  /** `{label op "value", …}` from the opening brace; returns the matchers. */
  const readMatchers = (): Matcher[] => {
    const matchers: Matcher[] = [];
    if (next().text !== '{') fail('expected {');
    while (peek()?.text !== '}') {
      const label = next();
      if (label.kind !== 'ident' && label.kind !== 'string') fail('expected a label name');
      const op = next().text;
      if (!MATCH_OPS.has(op)) fail('expected a label matcher operator');
      const value = next();
      if (value.kind !== 'string') fail('expected a quoted label value');
      matchers.push({
        label: label.kind === 'string' ? unquote(label) : label.text,
        op: op as Matcher['op'],
        value: unquote(value),
      });
      if (peek()?.text === ',') next();
    }
    next();
    return matchers;
  };

  while (i < tokens.length) {
    const token = next();
    if (token.kind === 'ident') {
      const word = token.text;
      if (GROUPING.has(word.toLowerCase())) {
        if (peek()?.text !== '(') continue; // group_left without a label list
        next();
        while (peek()?.text !== ')') {
          const label = next();
          if (label.kind !== 'ident' && label.kind !== 'string') fail('expected a label name');
          groupingLabels.push(label.kind === 'string' ? unquote(label) : label.text);
          if (peek()?.text === ',') next();
        }
        next();
      } else if (
        AGGREGATIONS.has(word.toLowerCase()) ||
        KEYWORDS.has(word.toLowerCase()) ||
        peek()?.text === '('
      ) {
        // An operator or a function call: its arguments are read as the loop goes on.
      } else {
        selectors.push({ metric: word, matchers: peek()?.text === '{' ? readMatchers() : [] });
      }
    } else if (token.text === '{') {
      i -= 1;
      const matchers = readMatchers();
      const name = matchers.find((m) => m.label === '__name__');
      if (!name || name.op !== '=') fail('a selector without a literal metric name');
      selectors.push({ metric: name?.value ?? '', matchers: matchers.filter((m) => m !== name) });
    } else if (token.text === '[') {
      // A range or subquery: durations and Grafana variables only.
      while (peek()?.text !== ']') next();
      next();
    }
  }
  return { selectors, groupingLabels };
}
