package dev.continuum.tensor;

/** A child JVM's report of its Vector API gate, for {@link VectorGateTest}: one line, e.g. {@code lanes=16}. */
final class VectorGateProbe {
    private VectorGateProbe() {
    }

    public static void main(String[] args) {
        System.out.println("lanes=" + VectorSupport.floatLanes() + " " + VectorSupport.describe());
    }
}
