package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

import java.util.Arrays;
import java.util.Locale;

/**
 * The file types {@code continuum quantize} writes: llama.cpp's {@code llama_ftype} values (stored as
 * {@code general.file_type}) with the tensor type each starts from before the per-tensor rules of
 * {@link TensorTypeRules}. As in llama-quantize, Q3_K, Q4_K and Q5_K name the _M mixes.
 */
public enum QuantizeType {
    F32(0, GgmlType.F32),
    F16(1, GgmlType.F16),
    BF16(32, GgmlType.BF16),
    Q4_0(2, GgmlType.Q4_0),
    Q4_1(3, GgmlType.Q4_1),
    Q8_0(7, GgmlType.Q8_0),
    Q5_0(8, GgmlType.Q5_0),
    Q5_1(9, GgmlType.Q5_1),
    Q2_K(10, GgmlType.Q2_K),
    Q3_K_S(11, GgmlType.Q3_K),
    Q3_K_M(12, GgmlType.Q3_K),
    Q3_K_L(13, GgmlType.Q3_K),
    Q4_K_S(14, GgmlType.Q4_K),
    Q4_K_M(15, GgmlType.Q4_K),
    Q5_K_S(16, GgmlType.Q5_K),
    Q5_K_M(17, GgmlType.Q5_K),
    Q6_K(18, GgmlType.Q6_K);

    /** The {@code general.file_type} value. */
    public final int fileType;
    /** The tensor type most matrices get. */
    public final GgmlType defaultType;

    QuantizeType(int fileType, GgmlType defaultType) {
        this.fileType = fileType;
        this.defaultType = defaultType;
    }

    /** Parses a name as llama-quantize accepts it, case-insensitively, with its aliases Q3_K, Q4_K, Q5_K. */
    public static QuantizeType parse(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        switch (n) {
            case "Q3_K" -> n = "Q3_K_M";
            case "Q4_K" -> n = "Q4_K_M";
            case "Q5_K" -> n = "Q5_K_M";
            default -> { }
        }
        for (QuantizeType t : values()) {
            if (t.name().equals(n)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown quantization type '" + name + "' (known: "
                + String.join(", ", Arrays.stream(values()).map(Enum::name).toList()) + ", Q3_K, Q4_K, Q5_K)");
    }

    boolean quantized() {
        return defaultType.blockSize > 1;
    }
}
