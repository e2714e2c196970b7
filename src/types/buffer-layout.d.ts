/**
 * Type declarations for the `buffer-layout` package (version 1.x), which ships none.
 *
 * Only the part of its API that punt6 uses or is likely to use is declared: the abstract
 * `Layout`, structures, sequences, blobs, strings and the integer and float factories. Every
 * factory takes an optional `property`, the name the value has inside an enclosing structure.
 * Multi-byte integers come in little-endian (`u16`) and big-endian (`u16be`) forms; the
 * `nu64`/`ns64` layouts are "near" 64-bit integers, exact only up to 2^53.
 */
declare module 'buffer-layout' {
  export class Layout<T = unknown> {
    /** Bytes the layout occupies, or a negative number when it depends on the data. */
    readonly span: number;
    property: string | undefined;
    constructor(span: number, property?: string);
    decode(b: Buffer, offset?: number): T;
    /** Writes `src` at `offset` and returns the number of bytes written. */
    encode(src: T, b: Buffer, offset?: number): number;
    getSpan(b?: Buffer, offset?: number): number;
    replicate(property: string): this;
    fromArray(values: unknown[]): T | undefined;
  }

  export class ExternalLayout extends Layout<number> {
    isCount(): boolean;
  }
  export class GreedyCount extends ExternalLayout {}
  export class OffsetLayout extends ExternalLayout {}
  export class UInt extends Layout<number> {}
  export class UIntBE extends Layout<number> {}
  export class Int extends Layout<number> {}
  export class IntBE extends Layout<number> {}
  export class Float extends Layout<number> {}
  export class FloatBE extends Layout<number> {}
  export class Double extends Layout<number> {}
  export class DoubleBE extends Layout<number> {}

  export class Structure<T = Record<string, unknown>> extends Layout<T> {
    readonly fields: Layout<unknown>[];
    /** The layout of the named field, or undefined. */
    layoutFor(property: string): Layout<unknown> | undefined;
    /** Byte offset of the named field, or undefined when absent (negative past a variable field). */
    offsetOf(property: string): number | undefined;
  }
  export class Sequence<T = unknown> extends Layout<T[]> {}
  export class Blob extends Layout<Buffer> {}
  export class CString extends Layout<string> {}
  export class UTF8 extends Layout<string> {}
  export class Constant<T = unknown> extends Layout<T> {}

  export function greedy(elementSpan?: number, property?: string): GreedyCount;
  export function offset(layout: Layout<number>, offset?: number, property?: string): OffsetLayout;

  export function u8(property?: string): UInt;
  export function u16(property?: string): UInt;
  export function u24(property?: string): UInt;
  export function u32(property?: string): UInt;
  export function u40(property?: string): UInt;
  export function u48(property?: string): UInt;
  export function nu64(property?: string): Layout<number>;
  export function u16be(property?: string): UIntBE;
  export function u24be(property?: string): UIntBE;
  export function u32be(property?: string): UIntBE;
  export function u40be(property?: string): UIntBE;
  export function u48be(property?: string): UIntBE;
  export function nu64be(property?: string): Layout<number>;
  export function s8(property?: string): Int;
  export function s16(property?: string): Int;
  export function s24(property?: string): Int;
  export function s32(property?: string): Int;
  export function s40(property?: string): Int;
  export function s48(property?: string): Int;
  export function ns64(property?: string): Layout<number>;
  export function s16be(property?: string): IntBE;
  export function s24be(property?: string): IntBE;
  export function s32be(property?: string): IntBE;
  export function s40be(property?: string): IntBE;
  export function s48be(property?: string): IntBE;
  export function ns64be(property?: string): Layout<number>;
  export function f32(property?: string): Float;
  export function f32be(property?: string): FloatBE;
  export function f64(property?: string): Double;
  export function f64be(property?: string): DoubleBE;

  export function struct<T = Record<string, unknown>>(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- fields of any value type
    fields: Layout<any>[],
    property?: string,
    decodePrefixes?: boolean,
  ): Structure<T>;
  export function seq<T>(elementLayout: Layout<T>, count: number | ExternalLayout, property?: string): Sequence<T>;
  export function blob(length: number | ExternalLayout, property?: string): Blob;
  export function cstr(property?: string): CString;
  export function utf8(maxSpan?: number, property?: string): UTF8;
}
