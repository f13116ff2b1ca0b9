"""The Jinja2 environment shared by pages and lesson rendering (autoescape on)."""

from fastapi.templating import Jinja2Templates

from app.assets import asset_url
from app.config import ROOT

templates = Jinja2Templates(directory=ROOT / "templates")
templates.env.globals["asset"] = asset_url
