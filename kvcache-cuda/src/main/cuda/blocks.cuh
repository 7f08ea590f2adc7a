// Decoders of the weight types as GGUF stores them, one row of [rows x cols] after another, each
// row a sequence of blocks (the layouts of the CPU kernels in io.kvcache.core.tensor). A decoder
// turns group g of a row (values 8g .. 8g+7) into floats; the plain types also decode single
// values, for rows whose length is not a multiple of 8. The same code compiles for the host, so
// a host program checks the decoding against the CPU kernels without a GPU.
#pragma once

#include <cuda_fp16.h>
#include <stdint.h>
#include <string.h>

#define KV_HD __host__ __device__ __forceinline__

KV_HD float half_bits_to_float(uint16_t bits) {
    __half_raw raw;
    raw.x = bits;
    return __half2float(__half(raw));
}

// Little-endian 16-bit read at any even offset.
KV_HD float half_at(const uint8_t* p) {
    return half_bits_to_float((uint16_t) (p[0] | (p[1] << 8)));
}

KV_HD float bf16_bits_to_float(uint16_t bits) {
    uint32_t word = (uint32_t) bits << 16;
    float f;
    memcpy(&f, &word, sizeof f);
    return f;
}

struct DecodeF32 {
    static constexpr bool PLAIN = true;
    static constexpr int BLOCK_VALUES = 1;
    static constexpr int BLOCK_BYTES = 4;

    static KV_HD float value(const uint8_t* row, int c) {
        float f;
        memcpy(&f, row + 4 * (size_t) c, sizeof f);
        return f;
    }

    static KV_HD void group(const uint8_t* row, int g, float* v) {
        for (int k = 0; k < 8; k++) {
            v[k] = value(row, 8 * g + k);
        }
    }
};

struct DecodeF16 {
    static constexpr bool PLAIN = true;
    static constexpr int BLOCK_VALUES = 1;
    static constexpr int BLOCK_BYTES = 2;

    static KV_HD float value(const uint8_t* row, int c) {
        return half_at(row + 2 * (size_t) c);
    }

    static KV_HD void group(const uint8_t* row, int g, float* v) {
        for (int k = 0; k < 8; k++) {
            v[k] = value(row, 8 * g + k);
        }
    }
};

struct DecodeBF16 {
    static constexpr bool PLAIN = true;
    static constexpr int BLOCK_VALUES = 1;
    static constexpr int BLOCK_BYTES = 2;

    static KV_HD float value(const uint8_t* row, int c) {
        const uint8_t* p = row + 2 * (size_t) c;
        return bf16_bits_to_float((uint16_t) (p[0] | (p[1] << 8)));
    }

    static KV_HD void group(const uint8_t* row, int g, float* v) {
        for (int k = 0; k < 8; k++) {
            v[k] = value(row, 8 * g + k);
        }
    }
};

// Blocks of 32: fp16 d, int8 qs[32]; value = d * q.
struct DecodeQ8_0 {
    static constexpr bool PLAIN = false;
    static constexpr int BLOCK_VALUES = 32;
    static constexpr int BLOCK_BYTES = 34;

    static KV_HD void group(const uint8_t* row, int g, float* v) {
        const uint8_t* block = row + (size_t) (g >> 2) * BLOCK_BYTES;
        float d = half_at(block);
        const int8_t* q = (const int8_t*) (block + 2 + 8 * (g & 3));
        for (int k = 0; k < 8; k++) {
            v[k] = d * q[k];
        }
    }
};

// Blocks of 32: fp16 d, qs[16]; values 0..15 are the low nibbles, 16..31 the high ones; value = d * (nibble - 8).
struct DecodeQ4_0 {
    static constexpr bool PLAIN = false;
    static constexpr int BLOCK_VALUES = 32;
    static constexpr int BLOCK_BYTES = 18;

    static KV_HD void group(const uint8_t* row, int g, float* v) {
        const uint8_t* block = row + (size_t) (g >> 2) * BLOCK_BYTES;
        float d = half_at(block);
        int quarter = g & 3;
        const uint8_t* q = block + 2 + 8 * (quarter & 1);
        int shift = 4 * (quarter >> 1);
        for (int k = 0; k < 8; k++) {
            v[k] = d * (float) (((q[k] >> shift) & 0xF) - 8);
        }
    }
};

// The 6-bit scale and min of sub-block s (0..7) of a Q4_K/Q5_K super-block from its 12 packed bytes.
KV_HD void k_scale_min(const uint8_t* q, int s, int* scale, int* min) {
    if (s < 4) {
        *scale = q[s] & 63;
        *min = q[s + 4] & 63;
    } else {
        *scale = (q[s + 4] & 0xF) | ((q[s - 4] >> 6) << 4);
        *min = (q[s + 4] >> 4) | ((q[s] >> 6) << 4);
    }
}

// Super-blocks of 256: fp16 d, fp16 dmin, scales[12], qs[128]. Values 64j .. 64j+31 are the low
// nibbles of qs[32j ..], 64j+32 .. 64j+63 the high ones (sub-blocks 2j and 2j+1);
// value = d * scale * q - dmin * min.
struct DecodeQ4_K {
    static constexpr bool PLAIN = false;
    static constexpr int BLOCK_VALUES = 256;
    static constexpr int BLOCK_BYTES = 144;

    static KV_HD void group(const uint8_t* row, int g, float* v) {
        const uint8_t* block = row + (size_t) (g >> 5) * BLOCK_BYTES;
        int first = 8 * (g & 31);
        int j = first >> 6;
        int high = (first >> 5) & 1;
        int i = first & 31;
        int scale, min;
        k_scale_min(block + 4, 2 * j + high, &scale, &min);
        float d = half_at(block) * scale;
        float m = half_at(block + 2) * min;
        const uint8_t* q = block + 16 + 32 * j + i;
        for (int k = 0; k < 8; k++) {
            v[k] = d * (float) ((q[k] >> (4 * high)) & 0xF) - m;
        }
    }
};

// Super-blocks of 256: fp16 d, fp16 dmin, scales[12], qh[32], qs[128]. The low 4 bits as in Q4_K,
// the fifth bit of value i (0..31) of sub-block s is bit s of qh[i].
struct DecodeQ5_K {
    static constexpr bool PLAIN = false;
    static constexpr int BLOCK_VALUES = 256;
    static constexpr int BLOCK_BYTES = 176;

    static KV_HD void group(const uint8_t* row, int g, float* v) {
        const uint8_t* block = row + (size_t) (g >> 5) * BLOCK_BYTES;
        int first = 8 * (g & 31);
        int j = first >> 6;
        int high = (first >> 5) & 1;
        int i = first & 31;
        int s = 2 * j + high;
        int scale, min;
        k_scale_min(block + 4, s, &scale, &min);
        float d = half_at(block) * scale;
        float m = half_at(block + 2) * min;
        const uint8_t* qh = block + 16 + i;
        const uint8_t* q = block + 48 + 32 * j + i;
        for (int k = 0; k < 8; k++) {
            int low = (q[k] >> (4 * high)) & 0xF;
            int fifth = (qh[k] >> s) & 1;
            v[k] = d * (float) (low | (fifth << 4)) - m;
        }
    }
};

// Super-blocks of 256: ql[128], qh[64], int8 scales[16], fp16 d. In half h (128 values) value
// 128h + 32p + i (p 0..3, i 0..31) takes nibble p/2 of ql[64h + 32(p%2) + i] and bits 2p, 2p+1 of
// qh[32h + i]; each 16 values share a scale; value = d * scale * (q6 - 32).
struct DecodeQ6_K {
    static constexpr bool PLAIN = false;
    static constexpr int BLOCK_VALUES = 256;
    static constexpr int BLOCK_BYTES = 210;

    static KV_HD void group(const uint8_t* row, int g, float* v) {
        const uint8_t* block = row + (size_t) (g >> 5) * BLOCK_BYTES;
        int first = 8 * (g & 31);
        int h = first >> 7;
        int p = (first >> 5) & 3;
        int i = first & 31;
        const uint8_t* ql = block + 64 * h + 32 * (p & 1) + i;
        const uint8_t* qh = block + 128 + 32 * h + i;
        int nibble = 4 * (p >> 1);
        float d = half_at(block + 208) * (float) (int8_t) block[192 + 8 * h + 2 * p + (i >> 4)];
        for (int k = 0; k < 8; k++) {
            int q = ((ql[k] >> nibble) & 0xF) | (((qh[k] >> (2 * p)) & 3) << 4);
            v[k] = d * (float) (q - 32);
        }
    }
};

template <class D>
KV_HD size_t row_bytes(int cols) {
    return (size_t) (cols / D::BLOCK_VALUES) * D::BLOCK_BYTES;
}

// Decodes a whole row into out[0 .. cols).
template <class D>
KV_HD void decode_row(const uint8_t* row, int cols, float* out) {
    int groups = cols / 8;
    for (int g = 0; g < groups; g++) {
        D::group(row, g, out + 8 * g);
    }
    if constexpr (D::PLAIN) {
        for (int c = 8 * groups; c < cols; c++) {
            out[c] = D::value(row, c);
        }
    }
}
