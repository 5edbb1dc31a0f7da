/** The part of hpack.js (RFC 7541 HPACK, no types of its own) that authority-repair.ts uses. */
declare module 'hpack.js' {
  type Field = { name: string; value: string; neverIndex: boolean }
  interface Decompressor {
    write(block: Buffer): void
    /** Decodes what was written; a malformed block is an 'error' event. */
    execute(): void
    read(): Field | null
    on(event: 'error', listener: (error: Error) => void): void
  }
  const hpack: { decompressor: { create(options: { table: { size: number } }): Decompressor } }
  export default hpack
}
