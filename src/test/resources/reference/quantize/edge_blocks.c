// Prints ggml_quantize_chunk's bytes (hex) for a few edge-case 256-value rows, one line per type and case.
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include "ggml.h"

static void fill(int c, float * x) {
    for (int i = 0; i < 256; i++) {
        switch (c) {
            case 0: x[i] = 0.0f; break;                                  // all zero
            case 1: x[i] = (i == 7) ? 1000.0f : 0.001f * (float)((i % 17) - 8); break; // one huge value
            case 2: x[i] = -(float)(i + 1) / 256.0f; break;              // negative only
            case 3: x[i] = 0.5f; break;                                  // constant
            case 4: x[i] = (float)((i * 7919 + 13) % 1000) / 1000.0f - 0.5f; break; // spread
            case 5: x[i] = 1e-16f * (float)(i % 5); break;               // below GROUP_MAX_EPS
        }
    }
}

int main(void) {
    const char * names[] = {"all-zero", "one-huge", "negative-only", "constant", "spread", "tiny"};
    enum ggml_type types[] = {GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1,
        GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_IQ4_NL};
    float x[256];
    uint8_t out[1024];
    // ggml_init fills the FP16-to-FP32 table the quantizers read back their scales through.
    struct ggml_init_params params = {0, NULL, true};
    ggml_free(ggml_init(params));
    for (int t = 0; t < 11; t++) {
        for (int c = 0; c < 6; c++) {
            fill(c, x);
            size_t n = ggml_quantize_chunk(types[t], x, out, 0, 1, 256, NULL);
            printf("%s\t%s\t", ggml_type_name(types[t]), names[c]);
            for (size_t i = 0; i < n; i++) printf("%02x", out[i]);
            printf("\n");
        }
    }
    return 0;
}
