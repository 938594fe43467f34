/**
 * Data sources: one interface ({@linkcode DataSource}) that yields
 * `(x, y[, sigma])` in batches of a requested size, for in-memory arrays, NPY,
 * raw binary, CSV/TSV and HDF5 files, and producers of batches. File sources
 * read only the batch being produced, so memory does not grow with the file.
 *
 * ```ts ignore
 * import { openSource } from "./mod.ts";
 * const src = await openSource("data.csv", { x: "t", y: "signal" });
 * for await (const batch of src.batches(65536)) {
 *   // batch.x[0], batch.y: Float64Array
 * }
 * await src.close();
 * ```
 *
 * @module
 */

export {
  type Batch,
  type BatchOptions,
  type ColumnBuffers,
  type ColumnRef,
  type DataSource,
  type OpenSourceOptions,
  type RowReader,
  type RowsRead,
  SOURCE_DTYPES,
  SOURCE_FORMATS,
  type SourceDtype,
  type SourceFormat,
} from "./source.ts";
export {
  DataSourceError,
  type DataSourceErrorCode,
  type DataSourceErrorLocation,
} from "./data_source_error.ts";
export { openSource } from "./open_source.ts";
export { arraySource, type ArraySourceOptions } from "./array_source.ts";
export {
  type BatchLike,
  type BatchProducer,
  iterableSource,
  type IterableSourceOptions,
} from "./iterable_source.ts";
export { type NpyOptions, openNpy } from "./npy_source.ts";
export { type NpyColumnFiles, npySource } from "./npy_columns_source.ts";
export { openRaw, type RawOptions } from "./raw_source.ts";
export { type CsvOptions, openCsv } from "./csv_source.ts";
export { type Hdf5Options, openHdf5 } from "./hdf5_source.ts";
export type { NumericArray, XInput } from "./_arrays.ts";
