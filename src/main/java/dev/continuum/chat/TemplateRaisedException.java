package dev.continuum.chat;

/** Thrown by the template's own raise_exception(msg); carried through Jinjava so render can report msg verbatim. */
final class TemplateRaisedException extends RuntimeException {

    TemplateRaisedException(String message) {
        super(message, null, false, false);
    }
}
