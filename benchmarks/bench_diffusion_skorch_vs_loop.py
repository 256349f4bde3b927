"""Compare the plain diffusion training loop with a skorch ``NeuralNet`` version.

Same denoiser, scheduler, batch size, weighted sampling (explicit generator),
AdamW, gradient clipping, per-batch LR schedule and EMA, on a small synthetic
problem.  Reports process CPU time per optimisation step (robust on a busy
machine) and wall time for each, plus the lines of loop code each needs.

    python benchmarks/bench_diffusion_skorch_vs_loop.py [--steps 300] [--d 64] [--hidden 128]
"""

from __future__ import annotations

import argparse
import json
import time

import skorch
import torch
from skorch.callbacks import Callback, GradientNormClipping, LRScheduler
from torch.optim.swa_utils import AveragedModel
from torch.utils.data import TensorDataset, WeightedRandomSampler

from skltsynth.engines.diffusion import DiffusionConfig, NoiseScheduler, ResidualMLPDenoiser
from skltsynth.engines.diffusion.denoiser import init_parameters_
from skltsynth.engines.diffusion.training import ema_multi_avg_fn, train_denoiser


class _EMA(Callback):
    def __init__(self, decay):
        self.decay = decay

    def on_train_begin(self, net, **kwargs):
        self.ema_ = AveragedModel(net.module_, multi_avg_fn=ema_multi_avg_fn(self.decay),
                                  use_buffers=True)

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if training:
            self.ema_.update_parameters(net.module_)


class _DiffusionNet(skorch.NeuralNet):
    """skorch version: the loss needs noise/timestep draws, so train_step_single is custom."""

    def __init__(self, *args, noise_scheduler, generator, cond_drop_prob=0.1, **kwargs):
        super().__init__(*args, **kwargs)
        self.noise_scheduler = noise_scheduler
        self.generator = generator
        self.cond_drop_prob = cond_drop_prob

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        x0, cond = batch
        n, T = x0.shape[0], self.noise_scheduler.num_train_timesteps
        t = torch.randint(0, T, (n,), generator=self.generator)
        noise = torch.randn(x0.shape, generator=self.generator)
        drop = torch.rand(n, generator=self.generator) < self.cond_drop_prob
        x_t = self.noise_scheduler.add_noise(x0, noise, t)
        out = self.module_(x_t, t, cond, drop_mask=drop)
        w = self.noise_scheduler.loss_weight(t, 5.0).float()
        loss = (w * ((out - self.noise_scheduler.target(x0, noise, t)) ** 2).mean(1)).mean()
        loss.backward()
        return {"loss": loss, "y_pred": out}


def run_skorch(X, cond, weights, cfg, seed):
    g = torch.Generator().manual_seed(seed)
    module = init_parameters_(ResidualMLPDenoiser(X.shape[1], cfg.hidden_dim, cfg.n_layers,
                                                  "class", 2), g)
    sampler = WeightedRandomSampler(weights, num_samples=cfg.train_steps * cfg.batch_size,
                                    replacement=True, generator=g)
    net = _DiffusionNet(
        module, criterion=torch.nn.MSELoss, optimizer=torch.optim.AdamW,
        optimizer__weight_decay=cfg.weight_decay, optimizer__foreach=True,
        lr=cfg.learning_rate, max_epochs=1, batch_size=cfg.batch_size, train_split=None,
        iterator_train__sampler=sampler, iterator_train__shuffle=False,
        callbacks=[GradientNormClipping(cfg.grad_clip),
                   LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR,
                               T_max=cfg.train_steps, step_every="batch"),
                   _EMA(cfg.ema_decay)],
        noise_scheduler=NoiseScheduler(), generator=g, verbose=0)
    net.fit(TensorDataset(X, cond), None)
    return net


def run_loop(X, cond, weights, cfg, seed):
    g = torch.Generator().manual_seed(seed)
    module = init_parameters_(ResidualMLPDenoiser(X.shape[1], cfg.hidden_dim, cfg.n_layers,
                                                  "class", 2), g)
    return train_denoiser(module, NoiseScheduler(), X, cond, cfg, sample_weight=weights,
                          generator=g)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(2000, args.d, generator=g)
    cond = (torch.arange(2000) % 10 == 0).long()
    weights = (1.0 / torch.bincount(cond)[cond]).double()
    cfg = DiffusionConfig(train_steps=args.steps, hidden_dim=args.hidden, n_layers=2,
                          early_stopping=False, warmup_steps=0)
    result = {}
    for name, fn in (("loop", run_loop), ("skorch", run_skorch),
                     ("loop_again", run_loop), ("skorch_again", run_skorch)):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(X, cond, weights, cfg, 1)
        result[name] = {"wall_s": round(time.perf_counter() - t0, 2),
                        "cpu_ms_per_step": round(1000 * (time.process_time() - c0) / args.steps,
                                                 2)}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
