package dev.continuum.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Our facade over the CUDA driver API, the only class that calls JCuda's {@link JCudaDriver}: the calls the CUDA
 * runner needs (device, primary context, memory, copies, module, launches, streams), each checked, a failure thrown
 * as a {@link CudaException} naming the call. Keeping JCuda behind it means an FFM binding can replace JCuda later
 * without touching the runner.
 *
 * <p>Device memory is handled as {@link DeviceBuffer}s that carry the raw device address, so kernel arguments are
 * plain {@code long}s and pointer arithmetic allocates nothing.
 *
 * <p>A context is current per thread in the driver model: the runner is built on the model loader's thread and
 * steps on the engine's, so every entry point of the runner calls {@link #makeCurrent()} first.
 */
public final class CudaDriver {
    /** The lowest driver the kernels load on: nvcc 13 emits PTX ISA 9.0, which needs a CUDA 13 (R580+) driver. */
    public static final int REQUIRED_DRIVER_VERSION = 13000;

    private static final MethodHandle NATIVE_POINTER;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(NativePointerObject.class, MethodHandles.lookup());
            NATIVE_POINTER = lookup.findVirtual(NativePointerObject.class, "getNativePointer", MethodType.methodType(long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final int ordinal;
    private volatile Thread currentOn;
    private boolean released;

    /**
     * Opens device {@code ordinal} through its primary context (shared with any other user of the device in this
     * process) and makes it current on the calling thread. The driver must have been initialised ({@link CudaProbe}).
     */
    public CudaDriver(int ordinal) {
        this.ordinal = ordinal;
        check("cuDeviceGet", JCudaDriver.cuDeviceGet(device, ordinal));
        check("cuDevicePrimaryCtxRetain", JCudaDriver.cuDevicePrimaryCtxRetain(context, device));
        makeCurrent();
    }

    static void check(String call, int result) {
        if (result != 0) {
            throw new CudaException(call, result);
        }
    }

    /** Makes the device's context current on the calling thread, if it is not already. */
    public void makeCurrent() {
        Thread t = Thread.currentThread();
        if (currentOn != t) {
            check("cuCtxSetCurrent", JCudaDriver.cuCtxSetCurrent(context));
            currentOn = t;
        }
    }

    public String deviceName() {
        byte[] name = new byte[256];
        check("cuDeviceGetName", JCudaDriver.cuDeviceGetName(name, name.length, device));
        int end = 0;
        while (end < name.length && name[end] != 0) {
            end++;
        }
        return new String(name, 0, end, StandardCharsets.UTF_8);
    }

    public int attribute(int attribute) {
        int[] value = new int[1];
        check("cuDeviceGetAttribute", JCudaDriver.cuDeviceGetAttribute(value, attribute, device));
        return value[0];
    }

    /** Compute capability as {@code major.minor}, e.g. {@code 9.0} for Hopper. */
    public String computeCapability() {
        return attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) + "."
                + attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    }

    public int multiprocessors() {
        return attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    }

    public int ordinal() {
        return ordinal;
    }

    /** Free and total device memory in bytes, as {@code {free, total}}. */
    public long[] memoryInfo() {
        long[] free = new long[1];
        long[] total = new long[1];
        check("cuMemGetInfo", JCudaDriver.cuMemGetInfo(free, total));
        return new long[] {free[0], total[0]};
    }

    /** Allocates {@code bytes} of device memory (at least one byte, so every buffer has an address). */
    public DeviceBuffer allocate(long bytes, String what) {
        CUdeviceptr ptr = new CUdeviceptr();
        int result = JCudaDriver.cuMemAlloc(ptr, Math.max(1, bytes));
        if (result != 0) {
            long[] info = memoryInfo();
            throw new CudaException("cuMemAlloc of " + bytes + " bytes for " + what + " failed: "
                    + jcuda.driver.CUresult.stringFor(result) + " (" + info[0] + " bytes free of " + info[1] + ")");
        }
        return new DeviceBuffer(ptr, address(ptr), bytes);
    }

    public void free(DeviceBuffer buffer) {
        check("cuMemFree", JCudaDriver.cuMemFree(buffer.pointer()));
    }

    /** Page-locked host memory the device copies to and from asynchronously, seen as a native-order buffer. */
    public HostBuffer allocateHost(long bytes) {
        Pointer p = new Pointer();
        check("cuMemAllocHost", JCudaDriver.cuMemAllocHost(p, Math.max(1, bytes)));
        ByteBuffer view = p.getByteBuffer(0, Math.max(1, bytes)).order(ByteOrder.nativeOrder());
        return new HostBuffer(p, view, bytes);
    }

    public void freeHost(HostBuffer buffer) {
        check("cuMemFreeHost", JCudaDriver.cuMemFreeHost(buffer.pointer()));
    }

    /** A device pointer {@code offset} bytes into {@code buffer}, for copies that start inside it (allocates a view). */
    public CUdeviceptr at(DeviceBuffer buffer, long offset) {
        if (offset < 0 || offset > buffer.bytes()) {
            throw new IllegalArgumentException("offset " + offset + " outside a buffer of " + buffer.bytes() + " bytes");
        }
        return buffer.pointer().withByteOffset(offset);
    }

    public void copyToDevice(CUdeviceptr dst, Pointer src, long bytes, CUstream stream) {
        check("cuMemcpyHtoDAsync", JCudaDriver.cuMemcpyHtoDAsync(dst, src, bytes, stream));
    }

    public void copyToHost(Pointer dst, CUdeviceptr src, long bytes, CUstream stream) {
        check("cuMemcpyDtoHAsync", JCudaDriver.cuMemcpyDtoHAsync(dst, src, bytes, stream));
    }

    public void copyOnDevice(CUdeviceptr dst, CUdeviceptr src, long bytes, CUstream stream) {
        check("cuMemcpyDtoDAsync", JCudaDriver.cuMemcpyDtoDAsync(dst, src, bytes, stream));
    }

    public void zero(DeviceBuffer buffer, CUstream stream) {
        check("cuMemsetD8Async", JCudaDriver.cuMemsetD8Async(buffer.pointer(), (byte) 0, Math.max(1, buffer.bytes()), stream));
    }

    public CUstream createStream() {
        CUstream stream = new CUstream();
        check("cuStreamCreate", JCudaDriver.cuStreamCreate(stream, 0));
        return stream;
    }

    public void synchronize(CUstream stream) {
        check("cuStreamSynchronize", JCudaDriver.cuStreamSynchronize(stream));
    }

    public void destroy(CUstream stream) {
        check("cuStreamDestroy", JCudaDriver.cuStreamDestroy(stream));
    }

    /** Loads a module image (fatbin or PTX); the driver compiles PTX for this device's architecture. */
    public CUmodule loadModule(byte[] image) {
        CUmodule module = new CUmodule();
        int result = JCudaDriver.cuModuleLoadData(module, image);
        if (result != 0) {
            throw new CudaException("cuModuleLoadData of the kernel image (" + image.length + " bytes) failed: "
                    + jcuda.driver.CUresult.stringFor(result) + "; the kernels need a CUDA "
                    + REQUIRED_DRIVER_VERSION / 1000 + " driver (R580 or newer)");
        }
        return module;
    }

    public void unload(CUmodule module) {
        check("cuModuleUnload", JCudaDriver.cuModuleUnload(module));
    }

    public CUfunction function(CUmodule module, String name) {
        CUfunction f = new CUfunction();
        int result = JCudaDriver.cuModuleGetFunction(f, module, name);
        if (result != 0) {
            throw new CudaException("cuModuleGetFunction(" + name + ")", result);
        }
        return f;
    }

    public void launch(CUfunction f, int gridX, int gridY, int blockX, CUstream stream, Pointer params, String name) {
        int result = JCudaDriver.cuLaunchKernel(f, gridX, gridY, 1, blockX, 1, 1, 0, stream, params, null);
        if (result != 0) {
            throw new CudaException("cuLaunchKernel(" + name + ", grid " + gridX + "x" + gridY + ", block " + blockX + ")",
                    result);
        }
    }

    /** Releases the primary context (the driver frees it when its last user lets go). */
    public void release() {
        if (!released) {
            released = true;
            check("cuDevicePrimaryCtxRelease", JCudaDriver.cuDevicePrimaryCtxRelease(device));
        }
    }

    static long address(NativePointerObject p) {
        try {
            return (long) NATIVE_POINTER.invokeExact(p);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot read a JCuda pointer's address", t);
        }
    }
}
