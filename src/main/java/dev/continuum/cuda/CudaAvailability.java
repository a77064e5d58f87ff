package dev.continuum.cuda;

/**
 * What probing the CUDA driver found, once per JVM ({@link CudaProbe}): a usable device, or the reason there is none
 * (no driver library, a driver without a device, a driver too old for the kernels).
 *
 * @param available     whether device 0 can serve
 * @param reason        why not, in one line; empty when available
 * @param driverVersion the driver's CUDA version as {@code 1000 * major + 10 * minor}, or 0 when no driver answered
 * @param devices       CUDA devices the driver sees
 */
public record CudaAvailability(boolean available, String reason, int driverVersion, int devices) {
    public CudaAvailability {
        if (available != reason.isEmpty()) { // an unavailable backend must say why; an available one has nothing to explain
            throw new IllegalArgumentException("availability " + available + " with reason '" + reason + "'");
        }
    }

    static CudaAvailability unavailable(String reason, int driverVersion, int devices) {
        return new CudaAvailability(false, reason, driverVersion, devices);
    }

    /** The driver version as {@code major.minor}. */
    public String driverVersionText() {
        return driverVersion / 1000 + "." + driverVersion % 1000 / 10;
    }
}
