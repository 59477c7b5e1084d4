"""`longitude train`: train the timeline model on a root's tokens; `evaluate` and `sample` a trained run."""

import json
import os

import click

from pipelines.commands.common import console, existing_root

_ROOT_HELP = "Data root (env LONGITUDE_ROOT, default ./longitude-data)."


@click.group("train", invoke_without_command=True)
@click.option("--config", "config_name", default="tiny", show_default=True, help="Named run: tiny, small, base.")
@click.option("--root", default=None, help=_ROOT_HELP)
@click.option("--steps", type=int, default=None, help="Optimizer steps (the schedule's length).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--run-name", "run", default=None, help="Folder under models/ (default: the config name).")
@click.option("--tokens-per-batch", type=int, default=None, help="Tokens per micro-batch and rank.")
@click.option("--grad-accum", type=int, default=None, help="Micro-batches per optimizer step.")
@click.option("--lr", type=float, default=None, help="Peak learning rate.")
@click.option("--seed", type=int, default=None)
@click.option("--checkpoint-every", type=int, default=None, help="Steps between checkpoints (0: only at the end).")
@click.option("--eval-every", type=int, default=None, help="Steps between validation losses on the tuning split.")
@click.option("--fresh", is_flag=True, help="Start the run over instead of resuming its latest checkpoint.")
@click.option("--nnodes", type=int, default=1, show_default=True, help="Machines, one torchrun agent each.")
@click.option("--nproc-per-node", type=int, default=1, show_default=True, help="Ranks (processes) per machine.")
@click.option("--rdzv-endpoint", default=None, help="HOST:PORT of the c10d rendezvous (one node; same on all).")
@click.option("--rdzv-id", default=None, help="The job's rendezvous name (default: from root and run name).")
@click.option("--sharding", type=click.Choice(["ddp", "fsdp"]), default=None,
              help="Several ranks: DDP replicas (default) or FSDP2 sharded parameters.")  # fmt: skip
@click.option("--data-placement", type=click.Choice(["rank", "global"]), default=None,
              help="Several ranks: each reads only its share of subjects (default) or every token.")  # fmt: skip
@click.option(
    "--record-data", is_flag=True, help="Write models/<run>/ranks/: batches, tokens, peak memory per rank."
)
@click.pass_context
def command(ctx: click.Context, config_name: str, root: str | None, steps: int | None, device: str,
            run: str | None, tokens_per_batch: int | None, grad_accum: int | None, lr: float | None,
            seed: int | None, checkpoint_every: int | None, eval_every: int | None,
            fresh: bool, nnodes: int, nproc_per_node: int, rdzv_endpoint: str | None, rdzv_id: str | None,
            sharding: str | None, data_placement: str | None, record_data: bool) -> None:  # fmt: skip
    """Train the timeline transformer on ROOT/tokens (resuming models/<run>/ when it has a checkpoint).

    \b
    longitude train --config tiny --root DIR --steps 500 [--device cpu|cuda]
    longitude train --config small --root DIR --steps 10000 --nproc-per-node 8        (one machine, 8 ranks)
    longitude train ... --nnodes 2 --nproc-per-node 8 --rdzv-endpoint node0:29400   (run on every machine)
    longitude train evaluate --root DIR --run-name tiny      (held-out loss vs n-grams, linear probes)
    longitude train sample --root DIR --run-name tiny        (a sampled continuation of a held-out timeline)
    """
    if ctx.invoked_subcommand:
        return
    if steps is None:
        raise click.UsageError("give --steps N (or a subcommand: evaluate, sample)")
    from model.train import IncompatibleRunError, train, train_config

    try:
        config = train_config(
            config_name, steps=steps, tokens_per_batch=tokens_per_batch, grad_accum=grad_accum, lr=lr, seed=seed,
            checkpoint_every=checkpoint_every, eval_every=eval_every, sharding=sharding,
            data_placement=data_placement, record_data=record_data or None,
        )  # fmt: skip
    except (KeyError, ValueError) as err:
        raise click.UsageError(err.args[0] if err.args else str(err)) from None  # a KeyError's str() is its repr
    if nnodes * nproc_per_node > 1 or rdzv_endpoint:
        _launch_agent(ctx, root, nnodes, nproc_per_node, rdzv_endpoint, rdzv_id)
        return
    main = int(os.environ.get("RANK", "0")) == 0
    try:
        result = _train_with_progress(train, existing_root(root), config, run, device, not fresh, main)
    except (IncompatibleRunError, FileNotFoundError, ValueError, RuntimeError) as err:
        raise click.ClickException(str(err)) from None
    if main:
        last = result.last or {}
        loss = f"loss {last['loss']:.4f} at step {last.get('step')}" if "loss" in last else "no loss logged yet"
        done = "" if result.steps_run else f" (already trained to step {result.step}: nothing to do)"
        console.print(f"{result.step} steps of {config.model} ({result.n_params:,} parameters) -> {result.run}; "
                      f"{loss}, checkpoint {result.checkpoint}{done}")  # fmt: skip


def _launch_agent(ctx: click.Context, root: str | None, nnodes: int, nproc_per_node: int,
                  rdzv_endpoint: str | None, rdzv_id: str | None) -> None:  # fmt: skip
    """Run this machine's torchrun agent (workers: `python -m model.train` with the same flags) to its end."""
    import subprocess

    from model.distributed import Launch, torchrun_command

    if "TORCHELASTIC_RUN_ID" in os.environ:
        raise click.UsageError("already a torchrun worker: drop --nnodes/--nproc-per-node/--rdzv-endpoint")
    try:
        launch = Launch(nnodes, nproc_per_node, rdzv_endpoint, rdzv_id)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    params = ctx.params
    resolved = str(existing_root(root))
    args = ["--root", resolved, "--config", params["config_name"], "--steps", str(params["steps"]),
            "--device", params["device"]]  # fmt: skip
    for flag, key in (("--run-name", "run"), ("--tokens-per-batch", "tokens_per_batch"),
                      ("--grad-accum", "grad_accum"), ("--lr", "lr"), ("--seed", "seed"),
                      ("--checkpoint-every", "checkpoint_every"), ("--eval-every", "eval_every"),
                      ("--sharding", "sharding"), ("--data-placement", "data_placement")):  # fmt: skip
        if params[key] is not None:
            args += [flag, str(params[key])]
    args += ["--fresh"] * params["fresh"] + ["--record-data"] * params["record_data"]
    run = params["run"] or params["config_name"]
    cmd = torchrun_command(launch, args, root=resolved, run=run)
    console.print(f"torchrun agent: {nnodes} node(s) x {nproc_per_node} rank(s), run {run}")
    code = subprocess.run(cmd).returncode  # the agent forwards SIGINT/SIGTERM to its workers
    if code != 0:
        raise click.ClickException(f"training stopped with exit status {code} (the ranks' errors are above)")


def _train_with_progress(train, root, config, run, device, resume, main):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if not main:  # under torchrun only rank 0 draws
        return train(root, config, run=run, device=device, resume=resume)
    columns = (TextColumn("[bold]train[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("", total=config.steps)

        def on_log(record: dict) -> None:
            text = f"loss {record['loss']:.4f}  lr {record['lr']:.2e}  {record['tokens_per_s'] / 1e3:.1f}k tok/s"
            if "val_loss" in record:
                text += f"  val {record['val_loss']:.4f}"
            progress.update(task, completed=record["step"], description=text)

        return train(root, config, run=run, device=device, resume=resume, on_log=on_log)


@command.command("evaluate")
@click.option("--root", default=None, help=_ROOT_HELP)
@click.option("--run-name", "run", default="tiny", show_default=True, help="Folder under models/.")
@click.option("--split", default="held_out", show_default=True, help="Split to score (probes fit on train).")
@click.option("--labels", "labels", multiple=True, type=click.Path(),
              help="TASK=PATH of a MEDS label table (repeatable); default: features/labels/*.")  # fmt: skip
@click.option("--no-probes", is_flag=True, help="Only the next-token report.")
@click.option("--max-batches", type=int, default=None, help="Score only this many batches of the split.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def evaluate_command(root: str | None, run: str, split: str, labels: tuple[str, ...], no_probes: bool,
                     max_batches: int | None, device: str, as_json: bool) -> None:  # fmt: skip
    """Held-out next-token loss and perplexity vs unigram/bigram, and a linear probe per task."""
    from pathlib import Path

    from model.evaluate import evaluate_run

    tables = None
    if labels:
        pairs = [item.split("=", 1) if "=" in item else (Path(item).stem, item) for item in labels]
        tables = {task: Path(path) for task, path in pairs}
    try:
        with console.status(f"evaluating {run} on {split}"):
            report = evaluate_run(existing_root(root), run, split=split, label_tables=tables, probes=not no_probes,
                                  max_batches=max_batches, device=device)  # fmt: skip
    except (FileNotFoundError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    _print_report(report)


def _print_report(report: dict) -> None:
    from rich.table import Table

    nt = report["next_token"]
    table = Table(title=f"next-token loss on {nt['split']} ({nt['targets']:,} targets), step {report['step']}")
    for col in ("model", "loss (nats)", "perplexity"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for name in ("model", "unigram", "bigram"):
        table.add_row(name if name == "model" else f"{name} (fit on train)", f"{nt[name]['loss']:.4f}",
                      f"{nt[name]['perplexity']:.2f}")  # fmt: skip
    console.print(table)
    if not report["probes"]:
        console.print("no label tables: no probes (materialize the feature store's labels, or pass --labels)")
        return
    probes = Table(title="linear probes (logistic regression on the subject embedding; AUROC)")
    for col in ("task", "train rows (pos)", "test rows (pos)", "probe", "feature-store baseline"):
        probes.add_column(col, justify="left" if col == "task" else "right")
    for task, r in report["probes"].items():
        if "skipped" in r:
            probes.add_row(task, "", "", r["skipped"], "")
            continue
        base = r.get("baseline") or {}
        probes.add_row(task, f"{r['train_rows']} ({r['train_pos']})", f"{r['test_rows']} ({r['test_pos']})",
                       _auroc(r["probe_auroc"]), _auroc(base.get("auroc")) if base else "absent")  # fmt: skip
    console.print(probes)


def _auroc(value: float | None) -> str:
    return "n/a (one class)" if value is None else f"{value:.3f}"


@command.command("sample")
@click.option("--root", default=None, help=_ROOT_HELP)
@click.option("--run-name", "run", default="tiny", show_default=True, help="Folder under models/.")
@click.option("--split", default="held_out", show_default=True)
@click.option("--subject-index", type=int, default=0, show_default=True, help="Which trajectory of the split.")
@click.option(
    "--prompt-tokens", type=int, default=None, help="Tokens of the timeline to continue (default: half)."
)
@click.option("--new-tokens", type=int, default=64, show_default=True)
@click.option("--temperature", type=float, default=1.0, show_default=True)
@click.option("--top-k", type=int, default=50, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def sample_command(root: str | None, run: str, split: str, subject_index: int, prompt_tokens: int | None,
                   new_tokens: int, temperature: float, top_k: int, seed: int) -> None:  # fmt: skip
    """Continue one timeline of SPLIT with the model and print it, detokenized."""
    from model.sample import format_events, sample_from_run

    try:
        cont, events = sample_from_run(existing_root(root), run, split=split, subject_index=subject_index,
                                       prompt_tokens=prompt_tokens, max_new_tokens=new_tokens,
                                       temperature=temperature, top_k=top_k, seed=seed)  # fmt: skip
    except (FileNotFoundError, IndexError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"subject {cont.subject_id}: {len(cont.prompt_ids)} prompt tokens, {len(cont.new_ids)} sampled")
    click.echo(format_events(events))
