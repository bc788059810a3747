/**
 * Tiny command-line flag reader for benchmarks: `--name value`, `--name=value` and boolean
 * `--flag`. Numbers accept `_` and `,` separators and k/m suffixes (`--rows 1m`, `--rows 1_000_000`).
 */
export class Flags {
  private readonly values = new Map<string, string | true>();

  constructor(argv: string[] = process.argv.slice(2)) {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (!arg.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(arg)} (flags look like --name value)`);
      const eq = arg.indexOf('=');
      if (eq !== -1) {
        this.values.set(arg.slice(2, eq), arg.slice(eq + 1));
      } else {
        const next = argv[i + 1];
        if (next !== undefined && !next.startsWith('--')) {
          this.values.set(arg.slice(2), next);
          i++;
        } else this.values.set(arg.slice(2), true);
      }
    }
  }

  /** Fails on flags the benchmark does not know, so a typo is not silently ignored. */
  allow(names: string[]): this {
    for (const name of this.values.keys()) {
      if (!names.includes(name)) throw new Error(`unknown flag --${name}; known: ${names.map((n) => `--${n}`).join(', ')}`);
    }
    return this;
  }

  bool(name: string): boolean {
    const value = this.values.get(name);
    return value === true || value === '1' || value === 'true';
  }

  string(name: string, fallback: string): string;
  string(name: string, fallback?: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const value = this.values.get(name);
    if (value === true) throw new Error(`--${name} needs a value`);
    return value ?? fallback;
  }

  int(name: string, fallback: number, min = 0): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const match = /^([0-9][0-9_,]*(?:\.[0-9]+)?)([km]?)$/i.exec(raw.trim());
    const scale = match?.[2]?.toLowerCase() === 'k' ? 1e3 : match?.[2]?.toLowerCase() === 'm' ? 1e6 : 1;
    const value = match ? Number(match[1]!.replace(/[_,]/g, '')) * scale : NaN;
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
    return value;
  }
}
