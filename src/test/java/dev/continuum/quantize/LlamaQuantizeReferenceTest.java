package dev.continuum.quantize;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Our quantizer against llama-quantize's own output of the shared dummy 15M F16 model
 * (reference/quantize/15m-T.tsv, see the README there): every tensor's type and bytes, and the whole file.
 */
@IntegrationTest
class LlamaQuantizeReferenceTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "Q2_K", "Q3_K",
            "Q4_K_M", "Q5_K_M", "Q4_K_S", "Q5_K_S", "Q3_K_M", "Q3_K_S", "Q3_K_L"})
    void fifteenMillionIsByteIdentical(String type) throws IOException {
        Path in = SharedTestData.require("models/dummy/dummy-15M-F16.gguf");
        Path out = tmp.resolve("15m-" + type + ".gguf");
        GgufQuantizer.quantize(in, out, QuantizeType.parse(type), false, 2, null);
        TensorHashes expected = TensorHashes.reference("15m-" + type + ".tsv");
        TensorHashes actual = TensorHashes.of(out);
        assertEquals(String.join("\n", expected.lines()), String.join("\n", actual.lines()));
        assertEquals(expected.fileSha256(), actual.fileSha256(), "whole-file sha256");
    }
}
