// A host program over the device decoders of blocks.cuh: decodes rows x cols values of one weight
// type from a file of raw GGUF tensor bytes and writes them as little-endian floats, so that
// BlockDecodingTest can compare the GPU kernels' decoding with the CPU kernels' without a GPU.
//
//   decode_rows TYPE ROWS COLS INPUT OUTPUT     (TYPE: f32 f16 bf16 q8_0 q4_0 q4_k q5_k q6_k)

#include "../../main/cuda/blocks.cuh"

#include <stdio.h>
#include <stdlib.h>
#include <string>
#include <vector>

template <class D>
static void decode_all(const std::vector<uint8_t>& in, int rows, int cols, std::vector<float>& out) {
    size_t bytes = row_bytes<D>(cols);
    if (in.size() != bytes * rows) {
        fprintf(stderr, "input has %zu bytes, %d rows of %d values need %zu\n", in.size(), rows, cols, bytes * rows);
        exit(2);
    }
    for (int r = 0; r < rows; r++) {
        decode_row<D>(in.data() + bytes * r, cols, out.data() + (size_t) cols * r);
    }
}

int main(int argc, char** argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: decode_rows TYPE ROWS COLS INPUT OUTPUT\n");
        return 2;
    }
    std::string type = argv[1];
    int rows = atoi(argv[2]);
    int cols = atoi(argv[3]);
    FILE* f = fopen(argv[4], "rb");
    if (f == nullptr) {
        perror(argv[4]);
        return 2;
    }
    std::vector<uint8_t> in;
    uint8_t buffer[65536];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, f)) > 0) {
        in.insert(in.end(), buffer, buffer + n);
    }
    fclose(f);
    std::vector<float> out((size_t) rows * cols);
    if (type == "f32") decode_all<DecodeF32>(in, rows, cols, out);
    else if (type == "f16") decode_all<DecodeF16>(in, rows, cols, out);
    else if (type == "bf16") decode_all<DecodeBF16>(in, rows, cols, out);
    else if (type == "q8_0") decode_all<DecodeQ8_0>(in, rows, cols, out);
    else if (type == "q4_0") decode_all<DecodeQ4_0>(in, rows, cols, out);
    else if (type == "q4_k") decode_all<DecodeQ4_K>(in, rows, cols, out);
    else if (type == "q5_k") decode_all<DecodeQ5_K>(in, rows, cols, out);
    else if (type == "q6_k") decode_all<DecodeQ6_K>(in, rows, cols, out);
    else {
        fprintf(stderr, "unknown type %s\n", argv[1]);
        return 2;
    }
    FILE* o = fopen(argv[5], "wb");
    if (o == nullptr) {
        perror(argv[5]);
        return 2;
    }
    fwrite(out.data(), sizeof(float), out.size(), o);
    fclose(o);
    return 0;
}
