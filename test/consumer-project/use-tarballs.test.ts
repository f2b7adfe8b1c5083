/**
 * `useTarballs`, which `pnpm pack:local` uses to point a user's project at packed packages
 * (and the consumer-project test at its tarballs): pure manifest edits, no packing.
 */
import { describe, expect, it } from 'vitest';
import { useTarballs } from './packing.mjs';

const packed = ['@kcl-ts/kcl', '@kcl-ts/local', '@kcl-ts/processor'].map((name) => ({ name, tarball: `/p/${name.slice(8)}-0.1.0-new.tgz` }));
const spec = (tarball: string): string => `file:.${tarball}`;

describe('useTarballs', () => {
  it('adds the named packages and pins every packed one through overrides with the same spec', () => {
    const manifest = { name: 'app', version: '1.0.0', dependencies: { pino: '^9' } };
    useTarballs(manifest, packed, { dependencies: ['@kcl-ts/kcl'], devDependencies: ['@kcl-ts/local'], spec });
    expect(manifest).toEqual({
      name: 'app',
      version: '1.0.0',
      dependencies: { pino: '^9', '@kcl-ts/kcl': 'file:./p/kcl-0.1.0-new.tgz' },
      devDependencies: { '@kcl-ts/local': 'file:./p/local-0.1.0-new.tgz' },
      overrides: { '@kcl-ts/kcl': 'file:./p/kcl-0.1.0-new.tgz', '@kcl-ts/local': 'file:./p/local-0.1.0-new.tgz', '@kcl-ts/processor': 'file:./p/processor-0.1.0-new.tgz' },
    });
  });

  it('moves a packed package the project already lists to the new tarball, so its override does not conflict', () => {
    const manifest = { name: 'app', version: '1.0.0', devDependencies: { '@kcl-ts/local': 'file:./p/local-0.1.0-old.tgz', vitest: '^4' } };
    useTarballs(manifest, packed, { dependencies: ['@kcl-ts/kcl'], spec });
    expect(manifest.devDependencies).toEqual({ '@kcl-ts/local': 'file:./p/local-0.1.0-new.tgz', vitest: '^4' });
  });

  it('refuses a name that is not a packed package', () => {
    expect(() => useTarballs({ name: 'app', version: '1.0.0' }, packed, { dependencies: ['@kcl-ts/nope'], spec })).toThrow(/@kcl-ts\/nope is not a public package/);
  });
});
