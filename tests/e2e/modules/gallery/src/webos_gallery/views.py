"""The gallery's own NiceGUI views: rendered by its host, shown in the shell's frame."""

from __future__ import annotations

from nicegui import ui

from webos_common.modules.shell_sdk import ShellContext


async def wall(ctx: ShellContext) -> None:
    body = await ctx.get("/api/gallery/photos")
    ui.label(f"{body['count']} photos for {body['user']}").props('data-testid="gallery-wall"')
    likes = {"n": 0}
    shown = ui.label("Likes: 0").props('data-testid="gallery-likes"')

    def like() -> None:
        likes["n"] += 1
        shown.text = f"Likes: {likes['n']}"

    ui.button("Like", on_click=like).props('data-testid="gallery-like"')
    ui.button("Home", on_click=lambda: ctx.navigate("/")).props('data-testid="gallery-home"')


async def admin(ctx: ShellContext) -> None:
    ui.label(f"Gallery admin for {ctx.user.username}").props('data-testid="gallery-admin"')


async def counter(ctx: ShellContext) -> None:
    body = await ctx.get("/api/gallery/photos")
    ui.label(f"{body['count']} photos").props('data-testid="gallery-counter"')
