package dev.continuum.cuda;

import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * One kernel with its argument list built once: each argument is a one-element array that {@code cuLaunchKernel}'s
 * parameter block points at, so setting an argument is an array store and a launch allocates nothing. The signature
 * is a string of argument kinds: {@code p} a device pointer (a raw address), {@code i} an int, {@code f} a float.
 *
 * <p>Not thread-safe; owned by one runner, used on its engine thread.
 */
final class KernelCall {
    private final String name;
    private final CUfunction function;
    private final char[] kinds;
    private final long[][] longs;
    private final int[][] ints;
    private final float[][] floats;
    private final Pointer params;

    KernelCall(CudaDriver driver, jcuda.driver.CUmodule module, String name, String signature) {
        this.name = name;
        this.function = driver.function(module, name);
        this.kinds = signature.toCharArray();
        this.longs = new long[kinds.length][];
        this.ints = new int[kinds.length][];
        this.floats = new float[kinds.length][];
        Pointer[] slots = new Pointer[kinds.length];
        for (int i = 0; i < kinds.length; i++) {
            slots[i] = switch (kinds[i]) {
                case 'p' -> Pointer.to(longs[i] = new long[1]);
                case 'i' -> Pointer.to(ints[i] = new int[1]);
                case 'f' -> Pointer.to(floats[i] = new float[1]);
                default -> throw new IllegalArgumentException("argument kind '" + kinds[i] + "' in " + signature);
            };
        }
        this.params = Pointer.to(slots);
    }

    String name() {
        return name;
    }

    KernelCall pointer(int index, long address) {
        longs[index][0] = address;
        return this;
    }

    KernelCall integer(int index, int value) {
        ints[index][0] = value;
        return this;
    }

    KernelCall real(int index, float value) {
        floats[index][0] = value;
        return this;
    }

    void launch(CudaDriver driver, int gridX, int gridY, int blockX, CUstream stream) {
        driver.launch(function, gridX, gridY, blockX, stream, params, name);
    }
}
