// node:zlib in the browser build (package.json `browser` maps 'zlib' here): no zstd compressor, so
// `compression: 'zstd'` fails with LEVEL_NOT_SUPPORTED (engine/table/compression.ts). zstd blocks are
// still read: their decoder is fzstd, pure JavaScript.
export const constants = {}
