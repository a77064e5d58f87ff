package dev.continuum.quantize;

import dev.continuum.loader.GgufTensorInfo;
import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The mix rules and tensor order on shapes the reference models do not have. */
class TensorTypeRulesTest {
    @Test
    void tensorsGoByLayerNumberThenName() {
        List<String> names = List.of("blk.10.attn_q.weight", "token_embd.weight", "blk.2.ffn_up.weight",
                "blk.2.attn_k.weight", "output.weight");
        List<GgufTensorInfo> infos = names.stream()
                .map(n -> new GgufTensorInfo(n, new long[]{32}, GgmlType.F32, 0, 128)).toList();
        assertEquals(List.of("output.weight", "token_embd.weight", "blk.2.attn_k.weight", "blk.2.ffn_up.weight",
                "blk.10.attn_q.weight"), GgufQuantizer.llamaOrder(infos).stream().map(GgufTensorInfo::name).toList());
    }

    @Test
    void seventyBillionGetsQ5KAttnVAndQ8_0HasNoFallback() {
        // 80 layers with grouped KV heads is llama.cpp's 70B: its Q3_K_M attn_v beyond the first two goes Q4_K -> Q5_K.
        TensorTypeRules big = new TensorTypeRules(QuantizeType.Q3_K_M, true, 80, 80, 8);
        assertEquals(GgmlType.Q5_K, big.choose("blk.0.attn_v.weight", 8192));
        assertEquals(GgmlType.Q5_K, big.choose("blk.1.attn_v.weight", 8192));
        assertEquals(GgmlType.Q5_K, big.choose("blk.2.attn_v.weight", 8192));
        TensorTypeRules same = new TensorTypeRules(QuantizeType.Q3_K_M, true, 80, 80, 1);
        same.choose("blk.0.attn_v.weight", 8192);
        same.choose("blk.1.attn_v.weight", 8192);
        assertEquals(GgmlType.Q4_K, same.choose("blk.2.attn_v.weight", 8192));
        TensorTypeRules q8 = new TensorTypeRules(QuantizeType.Q8_0, true, 1, 1, 1);
        assertThrows(IllegalArgumentException.class, () -> q8.choose("blk.0.ffn_down.weight", 172));
        // A row of 160 is no multiple of 256 but is of 32: Q6_K falls back to Q8_0; 48 not even of 32: F16.
        TensorTypeRules q6 = new TensorTypeRules(QuantizeType.Q6_K, true, 1, 1, 1);
        assertEquals(GgmlType.Q8_0, q6.choose("blk.0.ffn_up.weight", 160));
        assertEquals(GgmlType.F16, q6.choose("blk.0.ffn_gate.weight", 48));
        assertEquals(2, q6.fallbacks);
    }
}
