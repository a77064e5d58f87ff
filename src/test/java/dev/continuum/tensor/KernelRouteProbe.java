package dev.continuum.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * Child-JVM main for {@link KernelRouteChoiceTest}: prints which kernels this JVM chose for the quantized formats and F16
 * ({@code route: ...}), then, for Q8_0, Q4_0 and F16 matrices of two interleaved sets plus tail rows, the raw bits of
 * every output for 1 to 9 tokens as one hash per format and token count ({@code Q8_0 3 1a2b...}). Two JVMs that took
 * different routes must print the same hashes: the routes are bit-identical by contract.
 */
public final class KernelRouteProbe {
    private KernelRouteProbe() {
    }

    public static void main(String[] args) {
        System.out.println("route: " + NativeCpuKernels.describe());
        int rows = 2 * 64 + 5;
        int cols = 320;
        try (ComputePool pool = new ComputePool(2)) {
            MatMul matmul = new MatMul(pool);
            for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.F16}) {
                Random random = new Random(type.id);
                MemorySegment data = NativeQuantKernelTest.hostileBlocks(type, rows, cols, random);
                WeightTensor w = WeightTensor.of("probe", type, data, rows, cols).interleaved();
                for (int tokens = 1; tokens <= 9; tokens++) {
                    float[] x = NativeQuantKernelTest.activations(tokens, cols, random);
                    float[] out = new float[tokens * rows];
                    matmul.multiply(w, x, tokens, out);
                    long hash = 1125899906842597L;
                    for (float v : out) {
                        hash = 31 * hash + Float.floatToRawIntBits(v);
                    }
                    System.out.println(type + " " + tokens + " " + Long.toHexString(hash));
                }
            }
        }
    }
}
