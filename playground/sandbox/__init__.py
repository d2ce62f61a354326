"""Running visitors' snippets as sandboxed child apps: see manager.SandboxManager."""
