/**
 * The catalogue is complete: every finding code, category and reason has its texts in every
 * locale, and a text uses only the params its code (or reason) declares in the engine's params.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOCALES, messageArguments, messages } from '@mailaudit/catalog';
import { CATEGORY_IDS, CODE_PARAMS, CODES, REASONS, type Reason } from '@mailaudit/engine';

const PARTS = ['title', 'message', 'why', 'fix'] as const;
const codes = Object.keys(CODES) as (keyof typeof CODES)[];
const reasons = Object.keys(REASONS) as Reason[];

/** The params a code's texts may use: its own, and those of every reason it may give. */
function allowedParams(code: keyof typeof CODES): Set<string> {
  const spec = CODE_PARAMS[code] as { params: readonly string[]; reasons?: readonly Reason[] };
  const out = new Set<string>(spec.params);
  for (const r of spec.reasons ?? []) for (const n of REASONS[r] as readonly string[]) out.add(n);
  return out;
}

describe('message catalogue completeness', () => {
  it('declares params for every code and only known reasons', () => {
    for (const code of codes) {
      const spec = CODE_PARAMS[code] as { params: readonly string[]; reasons?: readonly string[] };
      assert.ok(spec, `${code} has no params declaration`);
      for (const r of spec.reasons ?? []) assert.ok(r in REASONS, `${code} names an unknown reason ${r}`);
      for (const n of spec.params) assert.match(n, /^[a-z][A-Za-z0-9]*$/, `${code} declares an odd param name ${n}`);
      if ((spec.reasons ?? []).length > 0)
        assert.ok(spec.params.includes('reason'), `${code} gives reasons but declares no reason param`);
    }
    for (const code of Object.keys(CODE_PARAMS))
      assert.ok(code in CODES, `params.ts declares ${code}, which codes.ts lacks`);
  });

  for (const locale of LOCALES) {
    describe(locale, () => {
      const m = messages(locale);

      it('has every code: title, message, why and fix', () => {
        const missing = codes.flatMap((c) =>
          PARTS.filter((p) => !m.get(`code.${c}.${p}`)?.trim()).map((p) => `${c}.${p}`),
        );
        assert.deepEqual(missing, [], `${locale} lacks ${missing.length} texts`);
      });

      it('has every category: name and description', () => {
        for (const id of CATEGORY_IDS) {
          assert.ok(m.get(`category.${id}.name`)?.trim(), `${locale} category.${id}.name`);
          assert.ok(m.get(`category.${id}.description`)?.trim(), `${locale} category.${id}.description`);
        }
      });

      it('has every reason', () => {
        const missing = reasons.filter((r) => !m.get(`reason.${r}`)?.trim());
        assert.deepEqual(missing, [], `${locale} lacks reasons`);
      });

      it('uses in each text only the params its code or reason declares', () => {
        const bad: string[] = [];
        for (const [key, source] of m) {
          const code = /^code\.(.+)\.(title|message|why|fix)$/.exec(key)?.[1];
          const reason = /^reason\.(.+)$/.exec(key)?.[1];
          let allowed: Set<string>;
          if (code !== undefined && code in CODES) allowed = allowedParams(code as keyof typeof CODES);
          else if (reason !== undefined && reason in REASONS)
            allowed = new Set(REASONS[reason as Reason] as readonly string[]);
          else if (/^category\.[^.]+\.(name|description)$/.test(key)) allowed = new Set();
          else if (key.startsWith('ui.')) continue;
          else {
            bad.push(`${key}: no such code, reason or category`);
            continue;
          }
          for (const arg of messageArguments(source).keys()) if (!allowed.has(arg)) bad.push(`${key} uses {${arg}}`);
        }
        assert.deepEqual(bad, []);
      });

      it('has the same keys as English', () => {
        const en = messages('en');
        const extra = [...m.keys()].filter((k) => !en.has(k));
        const lacking = [...en.keys()].filter((k) => !m.has(k) && !k.startsWith('ui.'));
        assert.deepEqual({ extra, lacking }, { extra: [], lacking: [] });
      });
    });
  }
});
