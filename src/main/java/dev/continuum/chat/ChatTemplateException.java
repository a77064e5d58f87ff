package dev.continuum.chat;

/** A chat template could not be compiled or rendered, or it raised an error on purpose via raise_exception. */
public class ChatTemplateException extends RuntimeException {

    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
