package io.innerq.cli;


import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The {@code innerq} executable. Commands other than {@code serve} run without starting Spring, so they start fast.
 */
public final class InnerqMain {

    private InnerqMain() {
    }

    public static void main(String[] args) {
        // Generated text is UTF-8 whatever the platform's locale says.
        var out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)), false,
                StandardCharsets.UTF_8);
        var err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        int status = Cli.run(args, out, err);
        out.flush();
        System.exit(status);
    }
}
