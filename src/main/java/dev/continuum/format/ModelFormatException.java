package dev.continuum.format;

/** A model file (or model spec) that cannot be loaded, with a message saying exactly why. */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
