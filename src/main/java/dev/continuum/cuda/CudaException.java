package dev.continuum.cuda;

import jcuda.driver.CUresult;

/** A CUDA driver call that failed, naming the call and the driver's error (e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}). */
public final class CudaException extends RuntimeException {
    private final int code;

    public CudaException(String call, int code) {
        super(call + " failed: " + CUresult.stringFor(code) + " (" + code + ")");
        this.code = code;
    }

    public CudaException(String message) {
        super(message);
        this.code = -1;
    }

    /** The driver's {@code CUresult}, or -1 when the failure is ours (e.g. too little memory, checked before asking). */
    public int code() {
        return code;
    }
}
