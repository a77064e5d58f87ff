package dev.continuum.cuda.emulator;

import static jcuda.driver.JCudaDriver.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * A child-JVM program for {@link EmulatedDriverTest}: drives the emulated {@code libcuda.so.1} through the real
 * JCuda (JCudaDriver), prints one {@code OK name: detail} or {@code FAIL name: detail} line per check, and exits 1
 * if any failed. Scenarios: {@code driver IMAGE [PTX]}, {@code kernels IMAGE}, {@code oom LIMIT},
 * {@code nodevice}, {@code nolib}.
 */
public final class EmulatedDriverProbe {
    private static int failures;

    private EmulatedDriverProbe() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "driver" -> driver(Path.of(args[1]), args.length > 2 ? Path.of(args[2]) : null);
            case "kernels" -> kernels(Path.of(args[1]));
            case "oom" -> oom(Long.parseLong(args[1]));
            case "nodevice" -> noDevice();
            case "nolib" -> noLibrary();
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.out.println(failures == 0 ? "PROBE PASSED" : "PROBE FAILED: " + failures);
        System.exit(failures == 0 ? 0 : 1);
    }

    // ---- scenarios ------------------------------------------------------------------------------------------

    private static void driver(Path image, Path ptx) throws Exception {
        JCudaDriver.setExceptionsEnabled(false);
        int[] version = {0};
        expect("driver version before cuInit", CUresult.CUDA_SUCCESS, cuDriverGetVersion(version));
        check("driver version", version[0] == 13000, "" + version[0]);
        CUdevice device = open();
        long[] total = {0};
        cuDeviceTotalMem(total, device);
        check("total memory", total[0] == 8L << 30, total[0] + " bytes");

        CUdeviceptr early = new CUdeviceptr();
        expect("alloc without a current context", CUresult.CUDA_ERROR_INVALID_CONTEXT, cuMemAlloc(early, 64));
        CUcontext context = new CUcontext();
        expect("primary context retain", CUresult.CUDA_SUCCESS, cuDevicePrimaryCtxRetain(context, device));
        expect("set current", CUresult.CUDA_SUCCESS, cuCtxSetCurrent(context));
        CUcontext got = new CUcontext();
        cuCtxGetCurrent(got);
        check("get current", got.equals(context), got + " vs " + context);

        CUmodule bogus = new CUmodule();
        expect("load garbage image", CUresult.CUDA_ERROR_INVALID_IMAGE,
                cuModuleLoadData(bogus, new byte[] {1, 2, 3, 4, 5, 6, 7, 0}));
        CUmodule module = new CUmodule();
        expect("load fatbin " + image.getFileName(), CUresult.CUDA_SUCCESS,
                cuModuleLoadData(module, Files.readAllBytes(image)));
        CUfunction missing = new CUfunction();
        expect("unknown function", CUresult.CUDA_ERROR_NOT_FOUND, cuModuleGetFunction(missing, module, "no_such"));
        JCudaDriver.setExceptionsEnabled(true);
        try {
            cuModuleGetFunction(missing, module, "no_such");
            check("unknown function throws", false, "no exception");
        } catch (CudaException e) {
            check("unknown function throws", e.getMessage().contains("CUDA_ERROR_NOT_FOUND"), e.getMessage());
        }
        JCudaDriver.setExceptionsEnabled(false);
        if (ptx != null) {
            CUmodule ptxModule = new CUmodule();
            byte[] text = Files.readAllBytes(ptx);
            expect("load PTX", CUresult.CUDA_SUCCESS, cuModuleLoadData(ptxModule, Arrays.copyOf(text, text.length + 1)));
            CUfunction f = new CUfunction();
            expect("PTX entry", CUresult.CUDA_SUCCESS, cuModuleGetFunction(f, ptxModule, "gemv_f32_t1"));
            expect("unload PTX module", CUresult.CUDA_SUCCESS, cuModuleUnload(ptxModule));
        }

        CUfunction gemv = function(module, "gemv_f32_t1");
        int[] threads = {0};
        cuFuncGetAttribute(threads, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, gemv);
        check("function max threads", threads[0] == 1024, "" + threads[0]);

        long[] free0 = {0};
        long[] total0 = {0};
        cuMemGetInfo(free0, total0);
        gemvF32(gemv, 37, 172, new Random(1));
        gemvQ8(function(module, "gemv_q8_0_t1"), 50, 96, new Random(2), false);
        long[] free1 = {0};
        cuMemGetInfo(free1, total0);
        check("memory returned", free1[0] == free0[0], free0[0] + " -> " + free1[0]);

        // Async copies and memsets on a stream, then events around a launch.
        CUstream stream = new CUstream();
        expect("stream create", CUresult.CUDA_SUCCESS, cuStreamCreate(stream, 0));
        int n = 1000;
        CUdeviceptr buffer = alloc(n * 4L);
        int[] host = new int[n];
        for (int i = 0; i < n; i++) {
            host[i] = i * 3;
        }
        expect("HtoD async", CUresult.CUDA_SUCCESS, cuMemcpyHtoDAsync(buffer, Pointer.to(host), n * 4L, stream));
        expect("memset D32 async", CUresult.CUDA_SUCCESS, cuMemsetD32Async(buffer.withByteOffset(400), 7, 10, stream));
        int[] back = new int[n];
        expect("DtoH async", CUresult.CUDA_SUCCESS, cuMemcpyDtoHAsync(Pointer.to(back), buffer, n * 4L, stream));
        expect("stream sync", CUresult.CUDA_SUCCESS, cuStreamSynchronize(stream));
        check("async round trip", back[99] == 297 && back[100] == 7 && back[109] == 7 && back[110] == 330,
                back[99] + " " + back[100] + " " + back[109] + " " + back[110]);
        CUdeviceptr copy = alloc(n * 4L);
        expect("DtoD", CUresult.CUDA_SUCCESS, cuMemcpyDtoD(copy, buffer, n * 4L));
        expect("memset D8", CUresult.CUDA_SUCCESS, cuMemsetD8(copy, (byte) 1, 4));
        cuMemcpyDtoH(Pointer.to(back), copy, n * 4L);
        check("DtoD + memset D8", back[0] == 0x01010101 && back[1] == 3 && back[110] == 330, back[0] + " " + back[1]);
        CUevent start = new CUevent();
        CUevent end = new CUevent();
        expect("event create", CUresult.CUDA_SUCCESS, cuEventCreate(start, 0));
        cuEventCreate(end, 0);
        float[] ms = {0};
        expect("elapsed before record", CUresult.CUDA_ERROR_INVALID_HANDLE, cuEventElapsedTime(ms, start, end));
        expect("event record", CUresult.CUDA_SUCCESS, cuEventRecord(start, stream));
        gemvF32(gemv, 256, 512, new Random(3));
        cuEventRecord(end, stream);
        expect("event sync", CUresult.CUDA_SUCCESS, cuEventSynchronize(end));
        expect("elapsed", CUresult.CUDA_SUCCESS, cuEventElapsedTime(ms, start, end));
        check("elapsed time", ms[0] > 0 && ms[0] < 60_000, ms[0] + " ms");
        cuEventDestroy(start);
        cuEventDestroy(end);
        expect("stream destroy", CUresult.CUDA_SUCCESS, cuStreamDestroy(stream));
        expect("destroyed stream", CUresult.CUDA_ERROR_INVALID_HANDLE, cuStreamSynchronize(stream));

        // Invalid device pointers answer CUDA_ERROR_INVALID_VALUE instead of crashing.
        expect("copy past the end", CUresult.CUDA_ERROR_INVALID_VALUE,
                cuMemcpyHtoD(buffer.withByteOffset(8), Pointer.to(host), n * 4L));
        expect("free interior pointer", CUresult.CUDA_ERROR_INVALID_VALUE, cuMemFree(buffer.withByteOffset(256)));
        expect("free", CUresult.CUDA_SUCCESS, cuMemFree(buffer));
        expect("double free", CUresult.CUDA_ERROR_INVALID_VALUE, cuMemFree(buffer));
        expect("copy from freed", CUresult.CUDA_ERROR_INVALID_VALUE, cuMemcpyDtoH(Pointer.to(back), buffer, 4));
        Pointer pinned = new Pointer();
        expect("pinned alloc", CUresult.CUDA_SUCCESS, cuMemAllocHost(pinned, 4096));
        expect("pinned free", CUresult.CUDA_SUCCESS, cuMemFreeHost(pinned));
        expect("pinned double free", CUresult.CUDA_ERROR_INVALID_VALUE, cuMemFreeHost(pinned));

        // The current context is per thread: another thread must make it current first.
        AtomicInteger before = new AtomicInteger();
        AtomicInteger after = new AtomicInteger();
        Thread other = new Thread(() -> {
            CUdeviceptr p = new CUdeviceptr();
            before.set(cuMemAlloc(p, 64));
            cuCtxSetCurrent(context);
            after.set(cuMemAlloc(p, 64));
            cuMemFree(p);
        }, "other-thread");
        other.start();
        other.join();
        expect("alloc on another thread", CUresult.CUDA_ERROR_INVALID_CONTEXT, before.get());
        expect("alloc after set current there", CUresult.CUDA_SUCCESS, after.get());

        // A kernel whose barriers cannot complete fails its launch instead of hanging; the device stays usable.
        CUfunction deadlock = new CUfunction();
        if (cuModuleGetFunction(deadlock, module, "fixture_deadlock") == CUresult.CUDA_SUCCESS) {
            CUdeviceptr out = alloc(32 * 4);
            expect("deadlocked launch", CUresult.CUDA_ERROR_LAUNCH_FAILED, cuLaunchKernel(deadlock, 1, 1, 1, 32, 1, 1,
                    0, null, Pointer.to(Pointer.to(out)), null));
            cuMemFree(out);
            gemvF32(gemv, 5, 33, new Random(4));
        }
        String[] name = {null};
        cuGetErrorName(CUresult.CUDA_ERROR_INVALID_CONTEXT, name);
        check("error name", "CUDA_ERROR_INVALID_CONTEXT".equals(name[0]), name[0]);
        String[] text = {null};
        cuGetErrorString(CUresult.CUDA_ERROR_OUT_OF_MEMORY, text);
        check("error string", "out of memory".equals(text[0]), text[0]);

        CUdeviceptr leaked = alloc(1024);
        expect("release primary context", CUresult.CUDA_SUCCESS, cuDevicePrimaryCtxRelease(device));
        expect("alloc after release", CUresult.CUDA_ERROR_INVALID_CONTEXT, cuMemAlloc(new CUdeviceptr(), 64));
        cuDevicePrimaryCtxRetain(context, device);
        cuMemGetInfo(free1, total0);
        check("release freed the context's memory", free1[0] == total0[0], free1[0] + " of " + total0[0]);
        expect("free after release", CUresult.CUDA_ERROR_INVALID_VALUE, cuMemFree(leaked));
    }

    private static void kernels(Path image) throws Exception {
        JCudaDriver.setExceptionsEnabled(false);
        CUdevice device = open();
        CUcontext context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        CUmodule module = new CUmodule();
        expect("load " + image.getFileName(), CUresult.CUDA_SUCCESS, cuModuleLoadData(module, Files.readAllBytes(image)));
        gemvF32(function(module, "gemv_f32_t1"), 37, 172, new Random(5));
        gemvQ8(function(module, "gemv_q8_0_t1"), 50, 96, new Random(6), false);
        // Throughput smoke: the dummy-15M classifier (32000 x 288, Q8_0) for one token.
        gemvQ8(function(module, "gemv_q8_0_t1"), 32000, 288, new Random(7), true);
    }

    private static void oom(long limit) {
        JCudaDriver.setExceptionsEnabled(false);
        CUdevice device = open();
        CUcontext context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        long[] free = {0};
        long[] total = {0};
        cuMemGetInfo(free, total);
        check("limited total", total[0] == limit && free[0] == limit, free[0] + " / " + total[0]);
        CUdeviceptr a = new CUdeviceptr();
        CUdeviceptr b = new CUdeviceptr();
        expect("alloc within the limit", CUresult.CUDA_SUCCESS, cuMemAlloc(a, limit / 2));
        expect("alloc over the limit", CUresult.CUDA_ERROR_OUT_OF_MEMORY, cuMemAlloc(b, limit / 2 + 1024));
        JCudaDriver.setExceptionsEnabled(true);
        try {
            cuMemAlloc(b, limit + 1);
            check("alloc over the limit throws", false, "no exception");
        } catch (CudaException e) {
            check("alloc over the limit throws", e.getMessage().contains("CUDA_ERROR_OUT_OF_MEMORY"), e.getMessage());
        }
        JCudaDriver.setExceptionsEnabled(false);
        cuMemFree(a);
        expect("alloc after free", CUresult.CUDA_SUCCESS, cuMemAlloc(b, limit / 2 + 1024));
    }

    private static void noDevice() {
        JCudaDriver.setExceptionsEnabled(true);
        try {
            cuInit(0);
            check("cuInit without a device", false, "no exception");
        } catch (CudaException e) {
            check("cuInit without a device", e.getMessage().contains("CUDA_ERROR_NO_DEVICE"), e.getMessage());
        }
        JCudaDriver.setExceptionsEnabled(false);
        int[] count = {-1};
        expect("device count after failed init", CUresult.CUDA_ERROR_NO_DEVICE, cuDeviceGetCount(count));
    }

    private static void noLibrary() {
        try {
            JCudaDriver.setExceptionsEnabled(false);
            System.out.println("SKIP a libcuda.so.1 is present on this machine");
            return;
        } catch (UnsatisfiedLinkError e) {
            check("first touch", e.getMessage() != null && e.getMessage().contains("libcuda.so.1"),
                    "UnsatisfiedLinkError: " + e.getMessage().lines().findFirst().orElse(""));
        }
        try {
            JCudaDriver.setExceptionsEnabled(false);
            check("second touch", false, "loaded");
        } catch (NoClassDefFoundError e) {
            check("second touch", true, "NoClassDefFoundError: " + e.getMessage());
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    private static CUdevice open() {
        expect("cuInit", CUresult.CUDA_SUCCESS, cuInit(0));
        int[] count = {0};
        cuDeviceGetCount(count);
        check("device count", count[0] == 1, "" + count[0]);
        CUdevice device = new CUdevice();
        expect("device get", CUresult.CUDA_SUCCESS, cuDeviceGet(device, 0));
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        String deviceName = new String(name, StandardCharsets.US_ASCII).trim();
        check("device name", deviceName.equals("Continuum emulated CUDA device"), deviceName);
        int[] major = {0};
        int[] minor = {0};
        int[] sms = {0};
        cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
        cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
        cuDeviceGetAttribute(sms, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        check("compute capability", major[0] == 9 && minor[0] == 0 && sms[0] == 132,
                "sm_" + major[0] + minor[0] + ", " + sms[0] + " SMs");
        return device;
    }

    private static CUfunction function(CUmodule module, String name) {
        CUfunction f = new CUfunction();
        expect("function " + name, CUresult.CUDA_SUCCESS, cuModuleGetFunction(f, module, name));
        return f;
    }

    private static CUdeviceptr alloc(long bytes) {
        CUdeviceptr p = new CUdeviceptr();
        int rc = cuMemAlloc(p, bytes);
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException("cuMemAlloc(" + bytes + "): " + CUresult.stringFor(rc));
        }
        return p;
    }

    private static CUdeviceptr upload(float[] data) {
        CUdeviceptr p = alloc(data.length * 4L);
        expect("HtoD", CUresult.CUDA_SUCCESS, cuMemcpyHtoD(p, Pointer.to(data), data.length * 4L));
        return p;
    }

    private static int launchGemv(CUfunction f, CUdeviceptr w, CUdeviceptr x, CUdeviceptr y, int rows, int cols,
            int accumulate) {
        Pointer params = Pointer.to(Pointer.to(w), Pointer.to(x), Pointer.to(y), Pointer.to(new int[] {rows}),
                Pointer.to(new int[] {cols}), Pointer.to(new int[] {1}), Pointer.to(new int[] {accumulate}));
        return cuLaunchKernel(f, (rows + 3) / 4, 1, 1, 128, 1, 1, 0, null, params, null);
    }

    private static void gemvF32(CUfunction f, int rows, int cols, Random random) {
        float[] w = new float[rows * cols];
        float[] x = new float[cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = random.nextFloat() * 2 - 1;
        }
        for (int i = 0; i < cols; i++) {
            x[i] = random.nextFloat() * 2 - 1;
        }
        double[] want = new double[rows];
        double[] magnitude = new double[rows];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                want[r] += (double) w[r * cols + c] * x[c];
                magnitude[r] += Math.abs((double) w[r * cols + c] * x[c]);
            }
        }
        CUdeviceptr dw = upload(w);
        CUdeviceptr dx = upload(x);
        CUdeviceptr dy = alloc(rows * 4L);
        String what = "gemv_f32_t1 " + rows + "x" + cols;
        expect(what + " launch", CUresult.CUDA_SUCCESS, launchGemv(f, dw, dx, dy, rows, cols, 0));
        float[] y = new float[rows];
        cuMemcpyDtoH(Pointer.to(y), dy, rows * 4L);
        compare(what, y, want, magnitude, 1);
        expect(what + " accumulate", CUresult.CUDA_SUCCESS, launchGemv(f, dw, dx, dy, rows, cols, 1));
        cuMemcpyDtoH(Pointer.to(y), dy, rows * 4L);
        compare(what + " accumulate", y, want, magnitude, 2);
        cuMemFree(dw);
        cuMemFree(dx);
        cuMemFree(dy);
    }

    /**
     * A Q8_0 GEMV over 8-bit activations (the ABI's {@code gemv_q8_0_tN(W, xq, xd, y, ...)}): x is quantized here per
     * 32-value tile (d = amax / 127, q = round(x / d)), and the reference is the float64 dot on those quants.
     */
    private static void gemvQ8(CUfunction f, int rows, int cols, Random random, boolean timed) {
        int blocks = cols / 32;
        byte[] w = new byte[rows * blocks * 34];
        double[] want = new double[rows];
        double[] magnitude = new double[rows];
        byte[] xq = new byte[cols];
        float[] xd = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            float[] tile = new float[32];
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                tile[j] = random.nextFloat() * 2 - 1;
                amax = Math.max(amax, Math.abs(tile[j]));
            }
            xd[b] = amax / 127f;
            for (int j = 0; j < 32; j++) {
                xq[b * 32 + j] = (byte) Math.round(tile[j] / xd[b]);
            }
        }
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < blocks; b++) {
                int at = (r * blocks + b) * 34;
                short d = Float.floatToFloat16(0.002f + random.nextFloat() * 0.01f);
                w[at] = (byte) d;
                w[at + 1] = (byte) (d >> 8);
                long sum = 0;
                long abs = 0;
                for (int j = 0; j < 32; j++) {
                    byte q = (byte) (random.nextInt(255) - 127);
                    w[at + 2 + j] = q;
                    sum += q * xq[b * 32 + j];
                    abs += Math.abs(q * xq[b * 32 + j]);
                }
                double scale = (double) Float.float16ToFloat(d) * xd[b];
                want[r] += scale * sum;
                magnitude[r] += scale * abs;
            }
        }
        CUdeviceptr dw = alloc(w.length);
        cuMemcpyHtoD(dw, Pointer.to(w), w.length);
        CUdeviceptr dxq = alloc(xq.length);
        expect("HtoD", CUresult.CUDA_SUCCESS, cuMemcpyHtoD(dxq, Pointer.to(xq), xq.length));
        CUdeviceptr dxd = upload(xd);
        CUdeviceptr dy = alloc(rows * 4L);
        String what = "gemv_q8_0_t1 " + rows + "x" + cols;
        expect(what + " launch", CUresult.CUDA_SUCCESS, launchGemvQ8(f, dw, dxq, dxd, dy, rows, cols));
        if (timed) {
            int runs = 5;
            long best = Long.MAX_VALUE;
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                launchGemvQ8(f, dw, dxq, dxd, dy, rows, cols);
                cuCtxSynchronize();
                best = Math.min(best, System.nanoTime() - t0);
            }
            System.out.printf("FIGURE %s: %.1f ms per launch (best of %d)%n", what, best / 1e6, runs);
        }
        float[] y = new float[rows];
        cuMemcpyDtoH(Pointer.to(y), dy, rows * 4L);
        compare(what, y, want, magnitude, 1);
        cuMemFree(dw);
        cuMemFree(dxq);
        cuMemFree(dxd);
        cuMemFree(dy);
    }

    private static int launchGemvQ8(CUfunction f, CUdeviceptr w, CUdeviceptr xq, CUdeviceptr xd, CUdeviceptr y,
            int rows, int cols) {
        Pointer params = Pointer.to(Pointer.to(w), Pointer.to(xq), Pointer.to(xd), Pointer.to(y),
                Pointer.to(new int[] {rows}), Pointer.to(new int[] {cols}), Pointer.to(new int[] {1}),
                Pointer.to(new int[] {0}));
        return cuLaunchKernel(f, (rows + 3) / 4, 1, 1, 128, 1, 1, 0, null, params, null);
    }

    /** Error of each output relative to the sum of its terms' magnitudes (f32 rounding is relative to that). */
    private static void compare(String what, float[] got, double[] want, double[] magnitude, double factor) {
        double worst = 0;
        int at = 0;
        for (int i = 0; i < got.length; i++) {
            double err = Math.abs(got[i] - factor * want[i]) / Math.max(1e-30, factor * magnitude[i]);
            if (!(err <= worst)) {
                worst = err;
                at = i;
            }
        }
        check(what, worst < 1e-5, String.format("worst error/magnitude %.2e at %d (%f vs %f)", worst, at, got[at],
                factor * want[at]));
    }

    private static void expect(String what, int want, int got) {
        check(what, want == got, CUresult.stringFor(got) + (want == got ? "" : ", expected " + CUresult.stringFor(want)));
    }

    private static void check(String what, boolean ok, String detail) {
        System.out.println((ok ? "OK " : "FAIL ") + what + ": " + detail);
        if (!ok) {
            failures++;
        }
    }
}
