package dev.continuum.cuda;

/** One transformer block's weights on the device; the biases are null when the architecture has none. */
record DeviceLayer(DeviceBuffer attnNorm, DeviceMatrix wq, DeviceMatrix wk, DeviceMatrix wv,
                   DeviceBuffer bq, DeviceBuffer bk, DeviceBuffer bv, DeviceMatrix wo, DeviceBuffer ffnNorm,
                   DeviceMatrix gate, DeviceMatrix up, DeviceMatrix down) {
}
