/**
 * OpenPGP keys made with the machine's real gpg, standing in for Grafana's (whose key file cannot be fetched here):
 * a signing key, decoys, and one that expired. Made once per test process in a private GnuPG home; its gpg-agent is
 * stopped when the process exits.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestKeys {
  readonly home: string;
  /** The key that signs the stand-in repository (the role of Grafana's B53AE77B… key). */
  readonly signer: string;
  readonly decoys: readonly string[];
  /** Expired in 2021 (made with a faked clock). */
  readonly expired: string;
  /** ASCII-armored files: every key, the signer in the middle (as in Grafana's gpg-full.key, where it is not first). */
  readonly fullFile: string;
  /** The decoys alone (a swapped file). */
  readonly decoysFile: string;
  /** Clear-signs `file` into `out` with the key `fpr` (an InRelease file). */
  clearsign(file: string, out: string, fpr: string): void;
}

let made: TestKeys | undefined;

function gpg(home: string, args: string[], input?: string): string {
  const r = spawnSync('gpg', ['--homedir', home, '--batch', '--quiet', ...args], { encoding: 'utf8', input });
  if (r.error || r.status !== 0) throw new Error(`gpg ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

function fingerprint(home: string, uid: string): string {
  const line = gpg(home, ['--with-colons', '--list-keys', uid]).split('\n').find((l) => l.startsWith('fpr:'));
  if (!line) throw new Error(`no key ${uid}`);
  return line.split(':')[9];
}

export function testKeys(): TestKeys {
  if (made) return made;
  const home = mkdtempSync(join(tmpdir(), 'p5-gnupg-'));
  process.on('exit', () => spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']));
  const gen = (uid: string, extra: string[] = []) => {
    gpg(home, ['--passphrase', '', ...extra, '--quick-gen-key', uid, 'ed25519', 'sign', extra.length > 0 ? '1y' : '3y']);
    return fingerprint(home, uid);
  };
  const decoyA = gen('Decoy A <decoy-a@example.test>');
  const signer = gen('Signer <signer@example.test>');
  const decoyB = gen('Decoy B <decoy-b@example.test>');
  const expired = gen('Expired <expired@example.test>', ['--faked-system-time', '20200101T000000']);
  const dir = mkdtempSync(join(tmpdir(), 'p5-keys-'));
  const fullFile = join(dir, 'gpg-full.key');
  const decoysFile = join(dir, 'decoys.key');
  writeFileSync(fullFile, gpg(home, ['--armor', '--export', decoyA, signer, decoyB, expired]));
  writeFileSync(decoysFile, gpg(home, ['--armor', '--export', decoyA, decoyB]));
  made = {
    home, signer, decoys: [decoyA, decoyB], expired, fullFile, decoysFile,
    clearsign: (file, out, fpr) => { gpg(home, ['--yes', '--local-user', fpr, '--clearsign', '-o', out, file]); },
  };
  return made;
}

/** The fingerprints of the keys and subkeys an armored key file holds, as `gpg --show-keys` lists them. */
export function keyFingerprints(file: string): string[] {
  const home = mkdtempSync(join(tmpdir(), 'p5-gnupg-show-'));
  return gpg(home, ['--no-autostart', '--with-colons', '--show-keys', file]).split('\n')
    .filter((l) => l.startsWith('fpr:')).map((l) => l.split(':')[9]);
}
